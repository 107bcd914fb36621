'use strict';
// The network map: MapLibre GL JS over the service's own vector tiles (GET /v1/tiles/…),
// with no request to the internet unless config dashboard.basemap names a base map style.
// It follows the integration chosen in #map-integration and the token app.js keeps in
// localStorage, and redraws when the network's version changes (after a sync), without a
// page reload.
(function () {
  const $ = (selector) => document.querySelector(selector);
  const esc = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const demoToken = document.querySelector('meta[name="mapsync-demo"]') ? 'demo' : '';
  const basemap = document.querySelector('meta[name="mapsync-basemap"]')?.content || null;
  const token = () => localStorage.getItem('mapsync.token') || demoToken;
  const POLL_MS = 3000;

  const LINK_COLORS = {
    linked: '#17803d',
    linked_by_document: '#54aeff',
    document_mismatch: '#cf222e',
    ambiguous: '#bf8700',
    unmatched: '#6e7781',
  };
  const LINK_LABELS = {
    linked: 'linked', linked_by_document: 'linked by document', document_mismatch: 'document mismatch', ambiguous: 'ambiguous', unmatched: 'unmatched',
  };
  const FREE_COLORS = { none: '#cf222e', few: '#d4a72c', many: '#1a7f37', splice: '#8c959f' };
  const PLANNED_COLOR = '#8250df';
  const PORT_STATE_LABELS = { free: 'free', taken: 'taken', held: 'held by a binding', unavailable: 'reserved or blocked', planned: 'planned' };

  async function api(path) {
    const response = await fetch(path, { headers: { authorization: `Bearer ${token()}` } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
    return body;
  }

  // Page furniture around #map, built here so index.html keeps one <div id="map">.
  const mapDiv = $('#map');
  const area = document.createElement('div');
  area.id = 'map-area';
  mapDiv.replaceWith(area);
  area.innerHTML = `
    <div id="map-tools">
      <form id="map-search-form" role="search">
        <input id="map-search" type="search" placeholder="Customer, service id or box" autocomplete="off" aria-label="Search the map">
        <button type="submit">Find</button>
      </form>
      <label><input type="checkbox" id="map-show-planned" checked> planned items</label>
    </div>
    <div id="map-legend" aria-label="Legend"></div>
    <aside id="map-panel" aria-live="polite"><p class="hint">Click a box for its ports, or anywhere else for the boxes that can serve that point.</p></aside>`;
  area.insertBefore(mapDiv, $('#map-legend'));

  $('#map-legend').innerHTML = `
    <b>Boxes</b> (free service ports)
    <span><i class="dot" style="background:${FREE_COLORS.many}"></i>3 or more</span>
    <span><i class="dot" style="background:${FREE_COLORS.few}"></i>1–2</span>
    <span><i class="dot" style="background:${FREE_COLORS.none}"></i>none</span>
    <span><i class="dot" style="background:${FREE_COLORS.splice}"></i>no service ports</span>
    <span><i class="dot hollow" style="border-color:${PLANNED_COLOR}"></i>planned (not built)</span>
    <b>Customers</b>
    ${Object.entries(LINK_COLORS).map(([status, color]) => `<span><i class="dot small" style="background:${color}"></i>${esc(LINK_LABELS[status])}</span>`).join('')}
    <b>Other</b>
    <span><i class="dot small" style="background:#57606a"></i>pole</span>
    <span><i class="square" style="background:#6639ba"></i>splitter</span>
    <span><i class="dot ring"></i>group (zoom in)</span>`;

  const plainStyle = { version: 8, sources: {}, layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#eef1f4' } }] };

  /** The base map style when configured and reachable; the plain background otherwise. */
  async function baseStyle() {
    if (!basemap) return plainStyle;
    try {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 4000);
      const response = await fetch(basemap, { signal: controller.signal });
      clearTimeout(timer);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return await response.json();
    } catch (error) {
      $('#map-summary').textContent = `Base map not reachable (${error.message}): plain background.`;
      return plainStyle;
    }
  }

  const element = ['!', ['has', 'count']];
  const cluster = ['has', 'count'];
  const planned = ['==', ['get', 'planned'], true];
  const built = ['!=', ['get', 'planned'], true];
  const freeColor = ['case',
    ['<=', ['coalesce', ['get', 'servicePorts'], 0], 0], FREE_COLORS.splice,
    ['<=', ['get', 'freePorts'], 0], FREE_COLORS.none,
    ['<=', ['get', 'freePorts'], 2], FREE_COLORS.few,
    FREE_COLORS.many];
  const clusterRadius = ['interpolate', ['linear'], ['sqrt', ['get', 'count']], 1, 5, 10, 14, 40, 24];

  /** The network's layers, bottom to top; planned items get layers of their own, drawn hollow. */
  const NETWORK_LAYERS = [
    { id: 'customers-groups', type: 'circle', 'source-layer': 'customers', filter: cluster,
      paint: { 'circle-radius': clusterRadius, 'circle-color': ['case', ['>', ['get', 'unlinked'], 0], '#f6e6b4', '#c7ecd2'], 'circle-stroke-width': 1, 'circle-stroke-color': '#57606a', 'circle-opacity': 0.8 } },
    { id: 'customers', type: 'circle', 'source-layer': 'customers', filter: element,
      paint: { 'circle-radius': 4, 'circle-color': ['match', ['get', 'linkStatus'], ...Object.entries(LINK_COLORS).flat(), '#000'], 'circle-stroke-width': 1, 'circle-stroke-color': '#fff' } },
    { id: 'poles-groups', type: 'circle', 'source-layer': 'poles', filter: cluster,
      paint: { 'circle-radius': ['interpolate', ['linear'], ['sqrt', ['get', 'count']], 1, 2, 30, 8], 'circle-color': '#8c959f', 'circle-opacity': 0.5 } },
    { id: 'poles', type: 'circle', 'source-layer': 'poles', filter: ['all', element, built], paint: { 'circle-radius': 2.5, 'circle-color': '#57606a' } },
    { id: 'poles-planned', type: 'circle', 'source-layer': 'poles', filter: ['all', element, planned], paint: { 'circle-radius': 3, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-width': 1.5, 'circle-stroke-color': PLANNED_COLOR } },
    { id: 'boxes-groups', type: 'circle', 'source-layer': 'boxes', filter: cluster,
      paint: { 'circle-radius': clusterRadius, 'circle-color': '#54aeff', 'circle-opacity': 0.35, 'circle-stroke-width': 2, 'circle-stroke-color': '#0969da' } },
    { id: 'boxes', type: 'circle', 'source-layer': 'boxes', filter: ['all', element, built],
      paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 13, 4, 17, 8], 'circle-color': freeColor, 'circle-stroke-width': 1.5, 'circle-stroke-color': '#fff' } },
    { id: 'boxes-planned', type: 'circle', 'source-layer': 'boxes', filter: ['all', element, planned],
      paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 13, 4, 17, 8], 'circle-color': 'rgba(255,255,255,0.6)', 'circle-stroke-width': 2.5, 'circle-stroke-color': PLANNED_COLOR } },
    // Splitters sit inside their box: drawn as a small mark beside it, not over it.
    { id: 'splitters', type: 'circle', 'source-layer': 'splitters', filter: built,
      paint: { 'circle-radius': 3, 'circle-color': '#6639ba', 'circle-translate': [10, -10] } },
    { id: 'splitters-planned', type: 'circle', 'source-layer': 'splitters', filter: planned,
      paint: { 'circle-radius': 3, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-width': 1.5, 'circle-stroke-color': PLANNED_COLOR, 'circle-translate': [10, -10] } },
  ];
  const PLANNED_LAYERS = ['poles-planned', 'boxes-planned', 'splitters-planned'];
  const GROUP_LAYERS = ['customers-groups', 'poles-groups', 'boxes-groups'];
  const BOX_LAYERS = ['boxes', 'boxes-planned'];

  let map = null;
  let integration = null;
  let version = null;
  let marker = null;

  function tileUrls(tilejson) {
    // Concatenated, not new URL(): that would percent-encode the {z}/{x}/{y} placeholders.
    return tilejson.tiles.map((url) => (url.startsWith('/') ? location.origin + url : url));
  }

  async function showIntegration(id) {
    const tilejson = await api(`/v1/tiles.json?integration=${encodeURIComponent(id)}`);
    integration = id;
    version = tilejson.version;
    if (!map) {
      map = new maplibregl.Map({
        container: 'map',
        style: await baseStyle(),
        center: tilejson.center ? tilejson.center.slice(0, 2) : [-47.93, -15.78],
        zoom: tilejson.center ? 13 : 3,
        // The tiles need the API token; nothing else the map fetches gets it.
        transformRequest: (url) => (url.startsWith(`${location.origin}/v1/`) ? { url, headers: { authorization: `Bearer ${token()}` } } : { url }),
        attributionControl: { compact: true },
      });
      window.mapsyncMap = map;
      map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
      map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
      await new Promise((resolve) => (map.loaded() ? resolve() : map.once('load', resolve)));
      addNetwork(tilejson);
      wireEvents();
    } else {
      map.getSource('network').setTiles(tileUrls(tilejson));
    }
    if (tilejson.bounds) map.fitBounds([[tilejson.bounds[0], tilejson.bounds[1]], [tilejson.bounds[2], tilejson.bounds[3]]], { padding: 30, duration: 0, maxZoom: 17 });
  }

  function addNetwork(tilejson) {
    map.addSource('network', { type: 'vector', tiles: tileUrls(tilejson), minzoom: tilejson.minzoom, maxzoom: tilejson.maxzoom, attribution: 'network: mapsync' });
    for (const layer of NETWORK_LAYERS) map.addLayer({ source: 'network', ...layer });
  }

  function panel(html) {
    $('#map-panel').innerHTML = html;
  }

  function placeMarker(lngLat) {
    if (marker) marker.remove();
    marker = new maplibregl.Marker({ color: '#0969da' }).setLngLat(lngLat).addTo(map);
  }

  async function showBox(id) {
    panel('<p>Loading the box…</p>');
    const body = await api(`/v1/boxes/${id}/ports`);
    const box = body.box;
    placeMarker([box.lon, box.lat]);
    const splitters = body.splitters.map((splitter) => `
      <h4>${esc(splitter.name || splitter.externalId)} <small>${esc(splitter.ratio)} ${esc(splitter.role)}${splitter.planned ? ' · planned' : ''}</small></h4>
      ${splitter.ports.length === 0 ? '<p class="hint">no service ports stored</p>' : `<table class="ports"><thead><tr><th>Port</th><th>State</th><th>On it</th></tr></thead><tbody>
        ${splitter.ports.map((port) => `<tr class="port-${esc(port.state)}" data-port="${esc(port.id)}">
          <td>${esc(port.number)}${port.label ? ` <small>${esc(port.label)}</small>` : ''}</td>
          <td>${esc(PORT_STATE_LABELS[port.state] || port.state)}</td>
          <td>${port.customer ? `${esc(port.customer.name || port.customer.externalId)}<br><small>${esc(LINK_LABELS[port.customer.linkStatus] || port.customer.linkStatus || '')}${port.customer.serviceId ? ` · ${esc(port.customer.serviceId)}` : ''}</small>` : ''}
              ${port.binding ? `<small>binding ${esc(port.binding.id)} (${esc(port.binding.status)}) → ${esc(port.binding.serviceId)}</small>` : ''}</td></tr>`).join('')}
      </tbody></table>`}`).join('');
    panel(`<h3 id="box-title">${esc(box.name || box.externalId)}</h3>
      <p><small>${esc(box.boxKind)}${box.auto ? ' (auto box of a pole)' : ''}${box.planned ? ' · <b>planned</b>: not built, nothing here can be offered' : ''} · platform id ${esc(box.externalId)}</small></p>
      ${splitters || '<p class="hint">no splitters</p>'}`);
  }

  // One entry per splitter id: a box may hold two splitters with the same name.
  function splitterPorts(ports) {
    const groups = new Map();
    for (const port of ports) {
      const group = groups.get(port.splitter.id) || { splitter: port.splitter, numbers: [] };
      group.numbers.push(port.number);
      groups.set(port.splitter.id, group);
    }
    const all = [...groups.values()];
    const named = (s) => s.name || s.externalId;
    return all.map(({ splitter, numbers }) => {
      const twin = all.some((other) => other.splitter !== splitter && named(other.splitter) === named(splitter));
      const label = twin ? `${named(splitter)} (id ${splitter.externalId})` : named(splitter);
      return `<span class="viability-splitter">${esc(label)}: ${esc(numbers.join(','))}</span>`;
    }).join('; ');
  }

  async function showViability(lngLat) {
    placeMarker(lngLat);
    panel('<p>Looking for boxes…</p>');
    const lat = lngLat.lat.toFixed(7);
    const lon = lngLat.lng.toFixed(7);
    const body = await api(`/v1/viability?integration=${encodeURIComponent(integration)}&lat=${lat}&lon=${lon}`);
    const rows = body.boxes.map((box) => `<li><a href="#" data-fly="${box.lon},${box.lat}" data-box="${esc(box.id)}">${esc(box.name || box.externalId)}</a>
      <b>${box.distanceMetres.toFixed(0)} m</b> · ${box.freePortCount} free
      <br><small>${splitterPorts(box.freePorts)}</small></li>`);
    panel(`<h3>Viability at ${lat}, ${lon}</h3>
      ${rows.length ? `<ol id="viability-list">${rows.join('')}</ol>` : `<p id="viability-none">No box with a free service port within ${body.radiusMetres} m.</p>`}`);
  }

  async function search(text) {
    if (text.trim().length < 2) return;
    const body = await api(`/v1/search?integration=${encodeURIComponent(integration)}&q=${encodeURIComponent(text.trim())}`);
    const hits = body.results.filter((hit) => hit.lat !== null);
    if (hits.length === 0) { panel(`<p id="search-none">Nothing found for “${esc(text)}”.</p>`); return; }
    flyTo(hits[0]);
    panel(`<h3>Found</h3><ul id="search-results">${hits.map((hit) => `<li><a href="#" data-fly="${hit.lon},${hit.lat}"${hit.kind === 'box' ? ` data-box="${esc(hit.id)}"` : ''}>${esc(hit.name || hit.externalId || hit.serviceId)}</a>
      <small>${esc(hit.kind)}${hit.serviceId ? ` · ${esc(hit.serviceId)}` : ''}${hit.linkStatus ? ` · ${esc(LINK_LABELS[hit.linkStatus] || hit.linkStatus)}` : ''}</small></li>`).join('')}</ul>`);
  }

  function flyTo(hit) {
    const center = [hit.lon, hit.lat];
    placeMarker(center);
    map.flyTo({ center, zoom: 18, duration: 800 });
  }

  function wireEvents() {
    map.on('click', (event) => {
      const features = map.queryRenderedFeatures(event.point, { layers: [...BOX_LAYERS, ...GROUP_LAYERS, 'customers', 'splitters', 'splitters-planned'] });
      const box = features.find((feature) => BOX_LAYERS.includes(feature.layer.id));
      const group = features.find((feature) => GROUP_LAYERS.includes(feature.layer.id));
      const splitter = features.find((feature) => feature.layer.id.startsWith('splitters'));
      const customer = features.find((feature) => feature.layer.id === 'customers');
      if (box) void showBox(box.id).catch(showError);
      else if (splitter) void showBox(splitter.properties.boxId).catch(showError);
      else if (group) map.easeTo({ center: event.lngLat, zoom: Math.min(map.getZoom() + 2, 18) });
      else if (customer) {
        const p = customer.properties;
        panel(`<h3>${esc(p.name || p.externalId)}</h3><p>${esc(LINK_LABELS[p.linkStatus] || p.linkStatus)}${p.serviceId ? ` · service ${esc(p.serviceId)}` : ''}<br><small>platform id ${esc(p.externalId)}</small></p>`);
      } else void showViability(event.lngLat).catch(showError);
    });
    const pointer = () => { map.getCanvas().style.cursor = 'pointer'; };
    const plain = () => { map.getCanvas().style.cursor = ''; };
    for (const id of [...BOX_LAYERS, ...GROUP_LAYERS, 'customers', 'splitters']) {
      map.on('mouseenter', id, pointer);
      map.on('mouseleave', id, plain);
    }
    map.on('idle', summarise);
  }

  function summarise() {
    const count = (layers) => map.queryRenderedFeatures({ layers }).reduce((sum, feature) => sum + (feature.properties.count || 1), 0);
    $('#map-summary').textContent = `In view: ${count(['boxes', 'boxes-planned', 'boxes-groups'])} boxes, ${count(['customers', 'customers-groups'])} customers, ${count(['poles', 'poles-planned', 'poles-groups'])} poles · zoom ${map.getZoom().toFixed(1)}`;
  }

  function showError(error) {
    panel(`<p class="failed">${esc(error.message)}</p>`);
  }

  $('#map-search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void search($('#map-search').value).catch(showError);
  });
  $('#map-show-planned').addEventListener('change', (event) => {
    if (!map) return;
    for (const id of PLANNED_LAYERS) map.setLayoutProperty(id, 'visibility', event.target.checked ? 'visible' : 'none');
  });
  $('#map-panel').addEventListener('click', (event) => {
    const link = event.target.closest('a[data-fly]');
    if (!link) return;
    event.preventDefault();
    const [lon, lat] = link.dataset.fly.split(',').map(Number);
    flyTo({ lon, lat });
    if (link.dataset.box) void showBox(link.dataset.box).catch(showError);
  });
  $('#map-integration').addEventListener('change', (event) => void showIntegration(event.target.value).catch(showError));

  /** Follows the chosen integration, and redraws when its network version moves. */
  async function poll() {
    const id = $('#map-integration').value;
    if (!id || !token()) return;
    if (id !== integration) return showIntegration(id);
    const tilejson = await api(`/v1/tiles.json?integration=${encodeURIComponent(id)}`);
    if (tilejson.version !== version) {
      version = tilejson.version;
      map.getSource('network').setTiles(tileUrls(tilejson));
    }
  }
  async function loop() {
    try {
      await poll();
    } catch (error) {
      if (!/token/i.test(error.message)) showError(error);
    }
    // Quick until the map is up (app.js fills the integration list first), then at a walk.
    setTimeout(loop, map ? POLL_MS : 400);
  }
  if (typeof maplibregl === 'undefined') {
    $('#map-summary').textContent = 'The map library did not load.';
  } else {
    void loop();
  }
})();
