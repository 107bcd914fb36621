/**
 * Operators can see and alert: the database-read gauges at /metrics (labelled by
 * integration) agree with the database, and the example alerting rules parse and use
 * only metrics mapsync serves.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { erpContractsFor } from '../../src/simulator/network-generator.ts';
import { PROJECT_ROOT } from '../helpers/child-process.ts';
import { waitForRunEnd } from '../helpers/run-waiting.ts';
import { startTestService, type TestService } from '../helpers/test-service.ts';
import { cpfFor, waitFor } from '../push/helpers/push-fixtures.ts';

/** `name{labels} value` lines of a Prometheus text exposition, as [name, labels, value]. */
function samples(text: string): [string, Record<string, string>, number][] {
  const out: [string, Record<string, string>, number][] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    out.push([match[1]!, labels, Number(match[3])]);
  }
  return out;
}

describe('metrics and alerting rules', () => {
  let svc: TestService;
  let metricsText: string;
  let runFinishedAt: number;

  before(async () => {
    svc = await startTestService();
    // The ERP side first, so the sync links customers with several outcomes.
    const contracts = erpContractsFor(svc.simulator.network);
    for (let i = 0; i < contracts.length; i += 1000) await svc.request('POST', '/v1/customers', { items: contracts.slice(i, i + 1000) });
    const queued = await svc.request('POST', `/v1/integrations/${svc.integrationId}/sync`);
    const run = await waitForRunEnd(svc, queued.body.runId, 60_000);
    assert.equal(run.status, 'succeeded');
    runFinishedAt = Date.parse(run.finishedAt);

    // A push the platform keeps refusing with 500: it stays pending, and it is two hours old.
    svc.simulator.setFaults({ errorRate: 1 });
    await svc.request('POST', '/v1/customers', { items: [{ serviceId: 'MET1', document: cpfFor(77), name: 'Metrics' }] });
    const port = await svc.db
      .knex('ports as p')
      .join('splitters as s', 's.id', 'p.splitter_id')
      .where({ 's.role': 'service', 'p.available': true })
      .whereNull('p.removed_at')
      .first('p.id');
    const binding = await svc.request('POST', '/v1/bindings', { serviceId: 'MET1', portId: Number(port.id) });
    await svc.request('POST', `/v1/bindings/${binding.body.id}/confirm`);
    await waitFor('the push to be tried', async () => (await svc.db.knex('push_outbox').where({ binding_id: binding.body.id }).first())?.attempts > 0);
    await svc.db.knex('push_outbox').where({ binding_id: binding.body.id }).update({ created_at: svc.db.knex.raw(`now() - interval '2 hours'`) });

    metricsText = (await svc.request('GET', '/metrics', undefined, { token: null })).body as string;
  });
  after(async () => {
    svc?.simulator.setFaults({});
    await svc?.stop();
  });

  const valueOf = (name: string, labels: Record<string, string>) =>
    samples(metricsText).find(([n, l]) => n === name && Object.entries(labels).every(([k, v]) => l[k] === v))?.[2];

  test('last successful sync and run duration, by integration', () => {
    const last = valueOf('mapsync_last_successful_sync_timestamp_seconds', { integration: svc.integrationId });
    assert.ok(last !== undefined, metricsText.slice(0, 500));
    assert.ok(Math.abs(last * 1000 - runFinishedAt) < 1500, `${last} vs ${runFinishedAt}`);
    const duration = valueOf('mapsync_last_sync_run_duration_seconds', { integration: svc.integrationId, status: 'succeeded' });
    assert.ok(duration !== undefined && duration > 0 && duration < 60, String(duration));
  });

  test('elements per kind and customers per link status agree with the database', async () => {
    const knex = svc.db.knex;
    const present = async (table: string) => Number((await knex(table).where({ integration_id: svc.integrationId }).whereNull('removed_at').count({ n: '*' }).first())!.n);
    for (const [kind, table] of [['poles', 'poles'], ['boxes', 'boxes'], ['splitters', 'splitters'], ['ports', 'ports'], ['customers', 'platform_customers']]) {
      assert.equal(valueOf('mapsync_network_elements', { integration: svc.integrationId, kind: kind! }), await present(table!), kind);
    }
    const byStatus = (await knex('platform_customers')
      .where({ integration_id: svc.integrationId })
      .whereNull('removed_at')
      .groupBy('link_status')
      .select('link_status')
      .count({ n: '*' })) as { link_status: string; n: number }[];
    assert.ok(byStatus.length >= 3, 'the simulator makes several link outcomes');
    for (const row of byStatus) {
      assert.equal(valueOf('mapsync_platform_customers', { integration: svc.integrationId, link_status: row.link_status }), Number(row.n), row.link_status);
    }
  });

  test('the outbox by status, with the age of the oldest waiting push', () => {
    const waiting =
      (valueOf('mapsync_outbox_pushes', { integration: svc.integrationId, status: 'pending' }) ?? 0) +
      (valueOf('mapsync_outbox_pushes', { integration: svc.integrationId, status: 'in_progress' }) ?? 0);
    assert.equal(waiting, 1);
    const age = valueOf('mapsync_outbox_oldest_pending_age_seconds', { integration: svc.integrationId });
    assert.ok(age !== undefined && age >= 7200 && age < 7300, String(age));
  });

  test('the example alerting rules parse and reference only metrics mapsync serves', () => {
    const file = path.join(PROJECT_ROOT, 'config', 'examples', 'prometheus-alerts.yml');
    const doc = parseYaml(readFileSync(file, 'utf8')) as { groups: { name: string; rules: Record<string, any>[] }[] };
    const rules = doc.groups.flatMap((group) => group.rules);
    const served = new Set(samples(metricsText).map(([name]) => name.replace(/_(bucket|sum|count)$/, '')));
    for (const name of [...metricsText.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!)) served.add(name);
    for (const rule of rules) {
      assert.ok(rule.alert && typeof rule.expr === 'string', JSON.stringify(rule));
      assert.match(rule.for, /^\d+[smhd]$/, `${rule.alert}: for`);
      assert.ok(['critical', 'warning'].includes(rule.labels?.severity), `${rule.alert}: severity`);
      assert.ok(rule.annotations?.summary, `${rule.alert}: summary`);
      let depth = 0;
      for (const ch of rule.expr as string) {
        depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
        assert.ok(depth >= 0, `${rule.alert}: parentheses`);
      }
      assert.equal(depth, 0, `${rule.alert}: parentheses`);
      const metrics = [...(rule.expr as string).matchAll(/\bmapsync_[a-z0-9_]+/g)].map((m) => m[0]);
      assert.ok(metrics.length > 0, `${rule.alert} uses a mapsync metric`);
      for (const metric of metrics) assert.ok(served.has(metric), `${rule.alert}: ${metric} is served at /metrics`);
    }
    const alerts = rules.map((rule) => rule.alert as string);
    for (const required of ['MapsyncNoSuccessfulSync', 'MapsyncPushStuck', 'MapsyncLinkFailuresJumping']) assert.ok(alerts.includes(required), required);
    const noSync = rules.find((rule) => rule.alert === 'MapsyncNoSuccessfulSync')!;
    assert.match(noSync.expr, /26 \* 3600/);
    assert.match(rules.find((rule) => rule.alert === 'MapsyncPushStuck')!.expr, /> 3600/);
  });
});
