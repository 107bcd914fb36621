'use strict';
// Operator panes of the dashboard: a run's report (filtered, downloaded as CSV), bindings
// (filtered, paged) and failed pushes, each with a retry button. Times are shown in the
// integration's own time zone (config `timezone`), with the UTC instant in the tooltip.
// Loaded before app.js, which uses window.mapsyncPanes.time() and .setIntegrations().
(function () {
  const $ = (selector) => document.querySelector(selector);
  const esc = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const demoToken = document.querySelector('meta[name="mapsync-demo"]') ? 'demo' : '';
  const token = () => localStorage.getItem('mapsync.token') || demoToken || '';
  const status = (text) => { $('#status').textContent = text; };

  async function api(method, path) {
    const response = await fetch(path, { method, headers: { authorization: `Bearer ${token()}` } });
    if (response.status === 401) throw new Error('unauthorized');
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(body.message || `HTTP ${response.status}`), { status: response.status });
    return body;
  }
  const report = (error) => { if (error.message !== 'unauthorized') status(`error: ${error.message}`); };

  // ---- time zones ----
  const zones = new Map();
  const formatters = new Map();
  function formatterFor(zone) {
    if (!formatters.has(zone)) {
      const options = {
        year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
        hourCycle: 'h23', timeZoneName: 'short',
      };
      let formatter;
      try {
        formatter = new Intl.DateTimeFormat(undefined, { ...options, timeZone: zone });
      } catch {
        formatter = new Intl.DateTimeFormat(undefined, { ...options, timeZone: 'UTC' });
      }
      formatters.set(zone, formatter);
    }
    return formatters.get(zone);
  }
  /** HTML: the instant in the integration's zone (UTC when the integration is unknown). */
  function time(iso, integrationId) {
    if (!iso) return '–';
    const zone = zones.get(integrationId) || 'UTC';
    return `<time datetime="${esc(iso)}" title="${esc(iso)} (UTC)" data-zone="${esc(zone)}">${esc(formatterFor(zone).format(new Date(iso)))}</time>`;
  }

  let started = false;
  function setIntegrations(integrations) {
    for (const integration of integrations) zones.set(integration.id, integration.schedule && integration.schedule.timezone);
    const select = $('#bindings-integration');
    const current = select.value;
    select.innerHTML = '<option value="">all integrations</option>' +
      integrations.map((i) => `<option value="${esc(i.id)}">${esc(i.id)}</option>`).join('');
    select.value = current;
    if (!started) {
      started = true;
      void loadBindings(false);
      void loadFailedPushes(false);
    }
  }

  // ---- run report ----
  const run = { id: null, integrationId: null, offset: 0, code: '', q: '' };
  const reportQuery = () => {
    const params = new URLSearchParams();
    if (run.code) params.set('code', run.code);
    if (run.q) params.set('q', run.q);
    return params;
  };
  let reportLoad = 0;
  async function loadReport(append) {
    const load = ++reportLoad;
    const params = reportQuery();
    params.set('limit', '200');
    params.set('offset', String(append ? run.offset : 0));
    const body = await api('GET', `/v1/sync-runs/${encodeURIComponent(run.id)}/report?${params}`);
    if (load !== reportLoad) return;
    run.integrationId = body.run.integrationId;
    $('#report-section').hidden = false;
    $('#report-run').textContent = run.id;
    const byCode = Object.entries(body.summary.byCode);
    $('#report-summary').innerHTML = `${body.summary.total} issue(s) in the run of ${time(body.run.queuedAt, body.run.integrationId)}` +
      (byCode.length ? `: ${byCode.map(([code, n]) => `${esc(code)} ${n}`).join(', ')}` : '') +
      (run.code || run.q ? `; ${body.page.total} shown by the filter` : '');
    if (!append) fillCodes(body.summary.byCode);
    const rows = body.issues.map((i) => `<tr><td>${esc(i.kind)}</td><td>${esc(i.externalId)}</td><td>${esc(i.code)}</td>` +
      `<td>${esc(i.customerName)}</td><td>${esc(i.reason)}</td></tr>`).join('');
    const tbody = $('#report tbody');
    tbody.innerHTML = append ? tbody.innerHTML + rows : rows;
    run.offset = body.page.nextOffset ?? run.offset;
    $('#report-more').hidden = body.page.nextOffset === null;
  }
  function fillCodes(byCode) {
    const customers = ['unmatched', 'ambiguous'].filter((code) => byCode[code]);
    const options = [['', 'all issues']];
    if (customers.length) options.push([customers.join(','), `customers to fix (${customers.join(' + ')})`]);
    for (const [code, n] of Object.entries(byCode)) options.push([code, `${code} (${n})`]);
    $('#report-code').innerHTML = options.map(([value, label]) => `<option value="${esc(value)}">${esc(label)}</option>`).join('');
    $('#report-code').value = run.code;
  }
  async function openReport(runId) {
    Object.assign(run, { id: runId, offset: 0, code: '', q: '' });
    $('#report-q').value = '';
    await loadReport(false);
  }
  /** The CSV needs the bearer token, so it is fetched here and handed to the browser as a file. */
  async function downloadCsv(delimiter) {
    const params = reportQuery();
    if (delimiter === 'semicolon') params.set('delimiter', 'semicolon');
    const response = await fetch(`/v1/sync-runs/${encodeURIComponent(run.id)}/report.csv?${params}`, { headers: { authorization: `Bearer ${token()}` } });
    if (!response.ok) throw new Error(`CSV: HTTP ${response.status}`);
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = `mapsync-run-${run.id}-report${delimiter === 'semicolon' ? '-excel' : ''}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  // ---- bindings ----
  let bindingsBefore = null;
  let bindingsLoad = 0;
  async function loadBindings(append) {
    // Filters can change faster than answers come: only the latest request's answer is shown.
    const load = ++bindingsLoad;
    const params = new URLSearchParams({ limit: '50' });
    for (const [name, selector] of [['integration', '#bindings-integration'], ['status', '#bindings-status'], ['syncState', '#bindings-sync-state'],
      ['serviceId', '#bindings-service-id'], ['box', '#bindings-box']]) {
      const value = $(selector).value.trim();
      if (value) params.set(name, value);
    }
    if (append && bindingsBefore) params.set('before', String(bindingsBefore));
    const body = await api('GET', `/v1/bindings?${params}`);
    if (load !== bindingsLoad) return;
    const rows = body.bindings.map((b) => {
      const push = b.lastPush;
      return `<tr data-binding="${b.id}">
        <td>${time(b.createdAt, b.integrationId)}<br><small>${esc(b.integrationId)}</small></td>
        <td><b>${esc(b.serviceId)}</b><br><small>${esc(b.customerName)}</small></td>
        <td>${esc(b.box ? b.box.name : '–')} · ${esc(b.splitter.name || b.splitter.id)} · port ${esc(b.port.label || b.port.number)}</td>
        <td>${esc(b.status)}<br><small class="${b.syncState === 'failed' ? 'failed' : ''}">${esc(b.syncState)}</small></td>
        <td>${push ? `${esc(push.action)} ${esc(push.status)}, ${push.attempts} attempt(s)<br><small>${time(push.updatedAt, b.integrationId)}</small>` +
          (push.lastError ? `<br><small class="failed">${esc(push.lastError)}</small>` : '') : '–'}</td>
        <td>${push && push.status === 'failed' ? `<button data-retry="${push.id}">Retry push</button>` : ''}</td></tr>`;
    }).join('');
    const tbody = $('#bindings tbody');
    tbody.innerHTML = append ? tbody.innerHTML + rows : rows || '<tr><td colspan="6">no binding matches</td></tr>';
    bindingsBefore = body.nextBefore;
    $('#bindings-more').hidden = body.nextBefore === null;
  }

  // ---- failed pushes ----
  let pushesAfter = null;
  let pushesPaged = false;
  let pushesLoad = 0;
  async function loadFailedPushes(append) {
    const load = ++pushesLoad;
    const params = new URLSearchParams({ status: 'failed', limit: '50' });
    if (append && pushesAfter) params.set('after', String(pushesAfter));
    const body = await api('GET', `/v1/pushes?${params}`);
    if (load !== pushesLoad) return;
    pushesPaged = append;
    const rows = body.pushes.map((p) => `<tr data-push="${p.id}">
      <td>${time(p.updatedAt, p.integrationId)}<br><small>${esc(p.integrationId)}</small></td>
      <td>#${p.id} ${esc(p.action)}</td><td>binding #${p.bindingId}</td><td>${p.attempts}</td>
      <td class="failed">${p.lastStatus ? `HTTP ${p.lastStatus}: ` : ''}${esc(p.lastError)}</td>
      <td><button data-retry="${p.id}">Retry</button></td></tr>`).join('');
    const tbody = $('#failed-pushes tbody');
    tbody.innerHTML = append ? tbody.innerHTML + rows : rows || '<tr><td colspan="6">no failed push</td></tr>';
    pushesAfter = body.nextAfter;
    $('#pushes-more').hidden = body.nextAfter === null;
  }

  async function retry(pushId) {
    try {
      const push = await api('POST', `/v1/pushes/${encodeURIComponent(pushId)}/retry`);
      status(`push #${push.id} is back in line (${push.status})`);
    } catch (error) {
      if (error.status !== 409) throw error;
      status(error.message);
    }
    await Promise.all([loadFailedPushes(false), loadBindings(false)]);
  }

  // ---- events ----
  const on = (handler) => (event) => {
    event.preventDefault();
    Promise.resolve(handler(event)).catch(report);
  };
  document.addEventListener('click', (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement)) return;
    let work = null;
    if (target.dataset.report) work = () => openReport(target.dataset.report);
    else if (target.dataset.retry) work = () => retry(target.dataset.retry);
    else if (target.id === 'report-more') work = () => loadReport(true);
    else if (target.id === 'report-csv') work = () => downloadCsv('comma');
    else if (target.id === 'report-csv-excel') work = () => downloadCsv('semicolon');
    else if (target.id === 'bindings-more') work = () => loadBindings(true);
    else if (target.id === 'pushes-more') work = () => loadFailedPushes(true);
    if (work) on(work)(event);
  });
  $('#report-filters').addEventListener('submit', on(() => {
    run.code = $('#report-code').value;
    run.q = $('#report-q').value.trim();
    return loadReport(false);
  }));
  $('#report-code').addEventListener('change', on(() => {
    run.code = $('#report-code').value;
    return loadReport(false);
  }));
  $('#bindings-filters').addEventListener('submit', on(() => loadBindings(false)));
  for (const selector of ['#bindings-integration', '#bindings-status', '#bindings-sync-state']) {
    $(selector).addEventListener('change', on(() => loadBindings(false)));
  }
  $('#token-form').addEventListener('submit', () => {
    // After app.js's own listener has stored the new token.
    setTimeout(() => Promise.all([loadBindings(false), loadFailedPushes(false)]).catch(report), 0);
  });
  setInterval(() => {
    if (started && !pushesPaged && token()) loadFailedPushes(false).catch(report);
  }, 10_000);

  window.mapsyncPanes = { time, setIntegrations };
})();
