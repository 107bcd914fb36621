'use strict';
// The dashboard talks to the same API as any client, with the bearer token the user types
// (kept in this browser's localStorage).
(function () {
  const demoToken = document.querySelector('meta[name="mapsync-demo"]') ? 'demo' : '';
  let token = localStorage.getItem('mapsync.token') || demoToken || '';
  const $ = (selector) => document.querySelector(selector);
  const status = (text) => { $('#status').textContent = text; };
  const esc = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  // In the integration's own time zone (panes.js).
  const time = (iso, integrationId) => window.mapsyncPanes.time(iso, integrationId);

  async function api(method, path) {
    const response = await fetch(path, { method, headers: { authorization: `Bearer ${token}` } });
    if (response.status === 401) { status('Type the API token to see data.'); throw new Error('unauthorized'); }
    const body = await response.json().catch(() => ({}));
    if (!response.ok && response.status !== 409) throw new Error(body.message || `HTTP ${response.status}`);
    return { status: response.status, body };
  }

  const countsText = (counts) => Object.entries(counts || {})
    .map(([kind, c]) => `${kind}: +${c.created} ~${c.updated} =${c.unchanged} -${c.removed} !${c.rejected}`).join('<br>');

  async function loadIntegrations() {
    const { body } = await api('GET', '/v1/integrations');
    window.mapsyncPanes.setIntegrations(body.integrations);
    const rows = body.integrations.map((i) => `<tr>
      <td><b>${esc(i.id)}</b><br><small>${esc(i.project.name)}</small></td><td>${esc(i.platform)}</td>
      <td>${esc(i.elements.join(', '))}</td>
      <td class="${esc(i.lastRun?.status)}">${i.lastRun ? `${esc(i.lastRun.status)}<br><small>${time(i.lastRun.queuedAt, i.id)}</small>` : '–'}</td>
      <td>${i.schedule.nextRunAt ? `${time(i.schedule.nextRunAt, i.id)}<br><small>${esc(i.schedule.cron)} ${esc(i.schedule.timezone)}</small>` : i.schedule.error ? `<span class="failed">not scheduled: ${esc(i.schedule.error)}</span>` : 'not scheduled'}</td>
      <td><button data-sync="${esc(i.id)}">Sync now</button></td></tr>`);
    $('#integrations tbody').innerHTML = rows.join('');
    const select = $('#map-integration');
    const current = select.value;
    select.innerHTML = body.integrations.map((i) => `<option value="${esc(i.id)}">${esc(i.id)}</option>`).join('');
    if (current) select.value = current;
    return body.integrations;
  }

  async function loadRuns() {
    const { body } = await api('GET', '/v1/sync-runs?limit=25');
    $('#runs tbody').innerHTML = body.runs.map((r) => `<tr>
      <td>${time(r.queuedAt, r.integrationId)}</td><td>${esc(r.integrationId)}</td><td>${esc(r.trigger)}</td>
      <td class="${esc(r.status)}">${esc(r.status)}${r.error ? `<br><small>${esc(r.error)}</small>` : ''}${r.progress ? `<br><small>${esc(r.progress.phase)}</small>` : ''}</td>
      <td>${r.durationMs === null ? '–' : `${(r.durationMs / 1000).toFixed(1)} s`}</td>
      <td><small>${countsText(r.counts)}</small></td>
      <td><button data-report="${esc(r.id)}">Report</button></td></tr>`).join('');
  }

  // The map (map.js) follows #map-integration and the token in localStorage on its own.
  async function refresh() {
    if (!token) { status('Type the API token to see data.'); return; }
    try {
      await loadIntegrations();
      await loadRuns();
      status(`updated ${new Date().toLocaleTimeString()}`);
    } catch (error) {
      if (error.message !== 'unauthorized') status(`error: ${error.message}`);
    }
  }

  document.addEventListener('click', async (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement)) return;
    if (target.dataset.sync) {
      const { status: code, body } = await api('POST', `/v1/integrations/${encodeURIComponent(target.dataset.sync)}/sync`);
      status(code === 202 ? `run ${body.runId} queued` : `a run is already active: ${body.runId}`);
      await refresh();
    }
  });
  $('#token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    token = $('#token').value.trim();
    localStorage.setItem('mapsync.token', token);
    void refresh();
  });
  void refresh();
  setInterval(() => void refresh(), 5000);
})();
