import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortsBySplitter, type OfferedPort } from '../../src/map/viability.service.ts';
import { mapsync } from '../helpers/cli-runner.ts';
import { startSyncedService } from '../helpers/synced-network.ts';
import type { TestService } from '../helpers/test-service.ts';

/** Ports the rule offers in a box, counted straight from the tables. */
async function offeredPortIds(svc: TestService, boxId: number): Promise<number[]> {
  const rows = (
    await svc.db.knex.raw(
      `SELECT p.id FROM ports p JOIN splitters s ON s.id = p.splitter_id JOIN boxes b ON b.id = s.box_id LEFT JOIN poles pl ON pl.id = b.pole_id
        WHERE b.id = ? AND s.role = 'service' AND p.available AND p.platform_customer_external_id IS NULL
          AND NOT p.planned AND NOT s.planned AND NOT b.planned AND NOT COALESCE(pl.planned, false)
          AND p.removed_at IS NULL AND s.removed_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM bindings x WHERE x.port_id = p.id AND x.status <> 'cancelled')
        ORDER BY p.id`,
      [boxId],
    )
  ).rows;
  return rows.map((row: { id: string }) => Number(row.id));
}

describe('viability, search and box ports', () => {
  let svc: TestService;
  let box: { id: number; lat: number; lon: number; name: string };

  before(async () => {
    svc = await startSyncedService({ simulator: { size: 600, seed: 11 } });
    const candidates = (
      await svc.db.knex.raw(
        `SELECT b.id, b.name, ST_Y(b.geom) AS lat, ST_X(b.geom) AS lon FROM boxes b
          WHERE b.integration_id = ? AND b.removed_at IS NULL AND NOT b.planned AND b.name IS NOT NULL ORDER BY b.id`,
        [svc.integrationId],
      )
    ).rows;
    for (const row of candidates) {
      if ((await offeredPortIds(svc, Number(row.id))).length >= 2) {
        box = { id: Number(row.id), lat: Number(row.lat), lon: Number(row.lon), name: row.name };
        break;
      }
    }
    assert.ok(box, 'a box with two free ports');
  });
  after(async () => svc?.stop());

  test('a point at a box: that box first, at 0 m, with exactly the ports the rule offers; the rest nearest first', async () => {
    const { status, body } = await svc.request('GET', `/v1/viability?integration=${svc.integrationId}&lat=${box.lat}&lon=${box.lon}&radius=500&limit=20`);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.origin.source, 'point');
    assert.equal(body.radiusMetres, 500);
    assert.equal(body.boxes[0].id, box.id);
    assert.ok(body.boxes[0].distanceMetres < 0.5);
    assert.deepEqual(body.boxes[0].freePorts.map((p: { id: number }) => p.id).sort((a: number, b: number) => a - b), await offeredPortIds(svc, box.id));
    assert.equal(body.boxes[0].freePortCount, body.boxes[0].freePorts.length);
    const distances = body.boxes.map((b: { distanceMetres: number }) => b.distanceMetres);
    assert.deepEqual(distances, [...distances].sort((a, b) => a - b));
    assert.ok(distances.every((d: number) => d <= 500));
    for (const found of body.boxes) assert.deepEqual(found.freePorts.map((p: { id: number }) => p.id).sort((a: number, b: number) => a - b), await offeredPortIds(svc, found.id));
    // A geodesic check of one distance against PostGIS itself.
    const far = body.boxes.at(-1);
    const metres = (await svc.db.knex.raw('SELECT ST_Distance(ST_MakePoint(?, ?)::geography, ST_MakePoint(?, ?)::geography) AS m', [box.lon, box.lat, far.lon, far.lat])).rows[0].m;
    assert.ok(Math.abs(Number(metres) - far.distanceMetres) < 0.11);
  });

  test('planned boxes and reserved, blocked or held ports are never offered', async () => {
    const [first, second] = await offeredPortIds(svc, box.id);
    // Reserved or blocked on the platform: stored as not available.
    await svc.db.knex('ports').where({ id: first }).update({ available: false });
    const contract = (await svc.db.knex('service_contracts').where({ status: 'active' }).first('id')) as { id: number };
    await svc.db.knex('bindings').insert({ integration_id: svc.integrationId, service_contract_id: contract.id, port_id: second, status: 'pending' });
    try {
      const { body } = await svc.request('GET', `/v1/viability?integration=${svc.integrationId}&lat=${box.lat}&lon=${box.lon}&radius=50`);
      const ours = body.boxes.find((b: { id: number }) => b.id === box.id);
      const offered = (ours?.freePorts ?? []).map((p: { id: number }) => p.id);
      assert.ok(!offered.includes(first), 'a reserved port is not offered');
      assert.ok(!offered.includes(second), 'a port held by a binding is not offered');
      await svc.db.knex('boxes').where({ id: box.id }).update({ planned: true });
      const planned = await svc.request('GET', `/v1/viability?integration=${svc.integrationId}&lat=${box.lat}&lon=${box.lon}&radius=50`);
      assert.ok(!planned.body.boxes.some((b: { id: number }) => b.id === box.id), 'a planned box is not offered');
    } finally {
      await svc.db.knex('boxes').where({ id: box.id }).update({ planned: false });
      await svc.db.knex('bindings').where({ port_id: second }).delete();
      await svc.db.knex('ports').where({ id: first }).update({ available: true });
    }
  });

  test("serviceId uses the contract's stored location; a missing contract or location is a clear 404 or 422", async () => {
    const contract = (await svc.db.knex('service_contracts').orderBy('id').first('id', 'service_id')) as { id: number; service_id: string };
    await svc.db.knex('service_contracts').where({ id: contract.id }).update({ geom: svc.db.knex.raw('ST_SetSRID(ST_MakePoint(?, ?), 4326)', [box.lon, box.lat]) });
    const { status, body } = await svc.request('GET', `/v1/viability?integration=${svc.integrationId}&serviceId=${encodeURIComponent(contract.service_id)}`);
    assert.equal(status, 200);
    assert.equal(body.origin.source, 'contract');
    assert.equal(body.origin.serviceId, contract.service_id);
    assert.equal(body.boxes[0].id, box.id);

    await svc.db.knex('service_contracts').where({ id: contract.id }).update({ geom: null });
    const none = await svc.request('GET', `/v1/viability?serviceId=${encodeURIComponent(contract.service_id)}`);
    assert.equal(none.status, 422);
    assert.equal(none.body.error, 'contract_without_location');
    const unknown = await svc.request('GET', '/v1/viability?serviceId=no-such-contract');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'contract_not_found');
  });

  test('bad input is a 400 that says what is wrong', async () => {
    for (const [query, message] of [
      ['lat=91&lon=0', /lat/],
      ['lat=0', /lat and lon/],
      ['lat=0&lon=0&serviceId=1', /not both/],
      ['lat=0&lon=0&radius=100000', /radius/],
      ['lat=0&lon=0&radius=0', /radius/],
      ['lat=x&lon=0', /lat/],
    ] as const) {
      const response = await svc.request('GET', `/v1/viability?${query}`);
      assert.equal(response.status, 400, query);
      assert.match(response.body.message, message, query);
    }
    assert.equal((await svc.request('GET', '/v1/viability?lat=0&lon=0&integration=nope')).status, 404);
  });

  test('mapsync viability gives the same answer: JSON for scripts, a table for people', async () => {
    const http = await svc.request('GET', `/v1/viability?lat=${box.lat}&lon=${box.lon}&radius=400`);
    const json = await mapsync(['viability', '--lat', String(box.lat), '--lon', String(box.lon), '--radius', '400', '--json'], svc.env);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), http.body);
    const table = await mapsync(['viability', '--lat', String(box.lat), '--lon', String(box.lon), '--integration', svc.integrationId], svc.env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /nearest first/);
    assert.match(table.stdout, new RegExp(`^\\s+0\\.0  ${box.name}`, 'm'));
    const bad = await mapsync(['viability', '--lat', 'north'], svc.env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--lat must be a number/);
  });

  test('mapsync viability takes any integration synced in the database, and says so when one has no network', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'mapsync-noconfig-'));
    try {
      const unconfigured = await mapsync(['viability', '--lat', String(box.lat), '--lon', String(box.lon), '--integration', svc.integrationId, '--dir', empty, '--json'], svc.env);
      assert.equal(unconfigured.code, 0, unconfigured.stderr);
      assert.equal(JSON.parse(unconfigured.stdout).boxes[0].id, box.id);
      const nowhere = await mapsync(['viability', '--lat', String(box.lat), '--lon', String(box.lon), '--integration', 'nowhere', '--dir', empty], svc.env);
      assert.equal(nowhere.code, 2);
      assert.match(nowhere.stderr, /integration "nowhere" is not configured \(configured: \(none\)\) and has no synced network in the database; run `mapsync sync nowhere` first/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('two splitters with the same name in one box are listed apart, each with its own free ports', async () => {
    const twin = (
      await svc.db.knex.raw(
        `SELECT s.box_id FROM splitters s JOIN ports p ON p.splitter_id = s.id
          WHERE s.integration_id = ? AND p.id = ANY(?) GROUP BY s.box_id HAVING count(DISTINCT s.id) >= 2 LIMIT 1`,
        [svc.integrationId, (await svc.request('GET', `/v1/viability?integration=${svc.integrationId}&lat=${box.lat}&lon=${box.lon}&radius=3000&limit=50`)).body.boxes.flatMap((b: { freePorts: { id: number }[] }) => b.freePorts.map((p) => p.id))],
      )
    ).rows[0];
    assert.ok(twin, 'a box with free ports on two splitters');
    const boxId = Number(twin.box_id);
    const splitters = (await svc.db.knex.raw('SELECT id, name FROM splitters WHERE box_id = ? ORDER BY id', [boxId])).rows;
    await svc.db.knex.raw("UPDATE splitters SET name = 'SPL-TWIN-1x8' WHERE box_id = ?", [boxId]);
    try {
      const at = (await svc.db.knex.raw('SELECT ST_Y(geom) AS lat, ST_X(geom) AS lon, name FROM boxes WHERE id = ?', [boxId])).rows[0];
      const json = await mapsync(['viability', '--lat', String(at.lat), '--lon', String(at.lon), '--integration', svc.integrationId, '--json'], svc.env);
      const found = JSON.parse(json.stdout).boxes.find((b: { id: number }) => b.id === boxId);
      const groups = freePortsBySplitter(found.freePorts);
      assert.ok(groups.length >= 2);
      assert.equal(new Set(groups.map((g) => g.splitter.id)).size, groups.length);
      for (const group of groups) {
        assert.deepEqual(group.numbers, found.freePorts.filter((p: OfferedPort) => p.splitter.id === group.splitter.id).map((p: OfferedPort) => p.number));
        assert.equal(group.label, `SPL-TWIN-1x8 (id ${group.splitter.externalId})`);
      }
      const table = await mapsync(['viability', '--lat', String(at.lat), '--lon', String(at.lon), '--integration', svc.integrationId], svc.env);
      assert.equal(table.code, 0, table.stderr);
      const line = table.stdout.split('\n').find((l) => l.includes(` ${at.name} `))!;
      for (const group of groups) assert.ok(line.includes(`${group.label}: ${group.numbers.join(',')}`), line);
    } finally {
      for (const s of splitters) await svc.db.knex.raw('UPDATE splitters SET name = ? WHERE id = ?', [s.name, s.id]);
    }
  });

  test('the search finds a customer by name and by service id, and a box by name', async () => {
    const customer = (await svc.db.knex.raw(
      `SELECT pc.id, pc.name, sc.service_id FROM platform_customers pc JOIN service_contracts sc ON sc.id = pc.service_contract_id
        WHERE pc.integration_id = ? AND pc.removed_at IS NULL AND pc.geom IS NOT NULL ORDER BY pc.id LIMIT 1`,
      [svc.integrationId],
    )).rows[0];
    const byName = await svc.request('GET', `/v1/search?integration=${svc.integrationId}&q=${encodeURIComponent(customer.name)}`);
    assert.equal(byName.status, 200);
    assert.ok(byName.body.results.some((hit: { kind: string; id: number }) => hit.kind === 'customer' && hit.id === Number(customer.id)));
    const byService = await svc.request('GET', `/v1/search?integration=${svc.integrationId}&q=${encodeURIComponent(customer.service_id)}`);
    assert.equal(byService.body.results[0].id, Number(customer.id));
    assert.equal(byService.body.results[0].serviceId, customer.service_id);
    assert.equal(typeof byService.body.results[0].lat, 'number');
    const byBox = await svc.request('GET', `/v1/search?integration=${svc.integrationId}&q=${encodeURIComponent(box.name)}`);
    assert.ok(byBox.body.results.some((hit: { kind: string; id: number }) => hit.kind === 'box' && hit.id === box.id));
    assert.equal((await svc.request('GET', `/v1/search?integration=${svc.integrationId}&q=%25`)).status, 400);
    assert.deepEqual((await svc.request('GET', `/v1/search?integration=${svc.integrationId}&q=%25%25`)).body.results, []);
  });

  test("a box's ports: each splitter, each port in order, and who is on it", async () => {
    const { status, body } = await svc.request('GET', `/v1/boxes/${box.id}/ports`);
    assert.equal(status, 200);
    assert.equal(body.box.id, box.id);
    const ports = body.splitters.flatMap((s: { ports: unknown[] }) => s.ports);
    const free = ports.filter((p: { state: string }) => p.state === 'free').map((p: { id: number }) => p.id).sort((a: number, b: number) => a - b);
    assert.deepEqual(free, await offeredPortIds(svc, box.id));
    for (const port of ports) {
      if (port.state === 'taken') assert.ok(port.customer?.externalId, 'a taken port names its customer');
    }
    const taken = (await svc.db.knex.raw(
      `SELECT b.id FROM boxes b JOIN splitters s ON s.box_id = b.id JOIN ports p ON p.splitter_id = s.id
        WHERE b.integration_id = ? AND p.platform_customer_external_id IS NOT NULL LIMIT 1`,
      [svc.integrationId],
    )).rows[0];
    const withCustomer = await svc.request('GET', `/v1/boxes/${taken.id}/ports`);
    assert.ok(withCustomer.body.splitters.some((s: { ports: { customer: { name: string } | null }[] }) => s.ports.some((p) => p.customer?.name)));
    assert.equal((await svc.request('GET', '/v1/boxes/999999999/ports')).status, 404);
    assert.equal((await svc.request('GET', '/v1/boxes/abc/ports')).status, 400);
  });
});
