import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService, type TestService } from '../helpers/test-service.ts';
import { cpfFor, seedFreeServicePorts, seedIntegration, waitFor, type SeededPort } from './helpers/push-fixtures.ts';

describe('customers, bindings and pushes over HTTP (real service, simulator, pusher worker)', () => {
  let service: TestService;
  let ports: SeededPort[];

  before(async () => {
    service = await startTestService({ integration: { push: { fields: ['state'] } } });
    await seedIntegration(service.db.knex, service.integrationId, service.simulator.url);
    ports = await seedFreeServicePorts(service.db.knex, service.integrationId, service.simulator, 6);
  });
  after(async () => service?.stop());

  const createdOnPlatform = (serviceId: string) =>
    service.simulator.writes.customersCreated.filter((w) => (w.body as { dados: { codigoIntegracao?: string } }).dados.codigoIntegracao === serviceId);

  test('every route needs the bearer token', async () => {
    for (const [method, path] of [
      ['POST', '/v1/customers'],
      ['POST', '/v1/bindings'],
      ['GET', '/v1/bindings/1'],
      ['POST', '/v1/bindings/1/confirm'],
      ['DELETE', '/v1/bindings/1'],
      ['GET', '/v1/pushes?status=failed'],
      ['POST', '/v1/pushes/1/retry'],
    ] as const) {
      const none = await service.request(method, path, method === 'POST' ? {} : undefined, { token: null });
      assert.equal(none.status, 401, `${method} ${path} without a token`);
      const wrong = await service.request(method, path, method === 'POST' ? {} : undefined, { token: 'wrong' });
      assert.equal(wrong.status, 401, `${method} ${path} with a wrong token`);
    }
  });

  test('POST /v1/customers: upserts, reports bad items, refuses bad bodies and more than 1000 items', async () => {
    const response = await service.request('POST', '/v1/customers', {
      items: [
        { serviceId: 'H1', document: cpfFor(1), name: 'Ana', status: 'active', state: 'SP' },
        { serviceId: 'H2', document: cpfFor(2), name: 'Bia', status: 'active', state: 'Sao Paulo' },
        { serviceId: 'H3', document: '123.456.789-00', name: 'Bad', status: 'active' },
        { serviceId: 'H4', document: cpfFor(4), name: 'Off', status: 'cancelled' },
        { serviceId: 'H5', document: cpfFor(5), name: 'Eva', status: 'active' },
      ],
    });
    assert.equal(response.status, 200);
    assert.equal(response.body.created, 4);
    assert.equal(response.body.updated, 0);
    assert.equal(response.body.errors.length, 1);
    assert.deepEqual(
      { index: response.body.errors[0].index, serviceId: response.body.errors[0].serviceId, field: response.body.errors[0].field },
      { index: 2, serviceId: 'H3', field: 'document' },
    );
    const bare = await service.request('POST', '/v1/customers', [{ serviceId: 'H1', document: cpfFor(1), name: 'Ana', state: 'SP' }]);
    assert.equal(bare.status, 200);
    assert.equal(bare.body.unchanged, 1);

    const bad = await service.request('POST', '/v1/customers', { customers: 'x' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /items/);
    const notJson = await service.request('POST', '/v1/customers', '{"items": [', {});
    assert.equal(notJson.status, 400);

    const tooMany = await service.request('POST', '/v1/customers', { items: Array.from({ length: 1001 }, (_, i) => ({ serviceId: `X${i}`, document: cpfFor(i), name: 'x' })) });
    assert.equal(tooMany.status, 413);
    assert.equal(tooMany.body.error, 'too_many_items');
    assert.match(tooMany.body.message, /at most 1000/);
    assert.equal(await service.db.knex('service_contracts').where('service_id', 'like', 'X%').first(), undefined, 'nothing of it was saved');
  });

  test('POST /v1/bindings → confirm (twice) → the pusher delivers one customer and one bind', async () => {
    const port = ports[0]!;
    const missingPort = await service.request('POST', '/v1/bindings', { serviceId: 'H1' });
    assert.equal(missingPort.status, 400);
    const bothWays = await service.request('POST', '/v1/bindings', { serviceId: 'H1', portId: port.id, integrationId: service.integrationId, portExternalId: port.externalId });
    assert.equal(bothWays.status, 400);
    const badPortId = await service.request('POST', '/v1/bindings', { serviceId: 'H1', portId: 'first' });
    assert.equal(badPortId.status, 400);
    const unknownContract = await service.request('POST', '/v1/bindings', { serviceId: 'NOPE', portId: port.id });
    assert.equal(unknownContract.status, 404);
    assert.equal(unknownContract.body.error, 'contract_not_found');
    const inactive = await service.request('POST', '/v1/bindings', { serviceId: 'H4', portId: port.id });
    assert.equal(inactive.status, 422);
    assert.equal(inactive.body.error, 'contract_not_active');
    const unknownPort = await service.request('POST', '/v1/bindings', { serviceId: 'H1', portId: 99_999_999 });
    assert.equal(unknownPort.status, 404);
    assert.equal(unknownPort.body.error, 'port_not_found');

    const created = await service.request('POST', '/v1/bindings', { serviceId: 'H1', integrationId: service.integrationId, portExternalId: port.externalId });
    assert.equal(created.status, 201);
    assert.equal(created.body.status, 'pending');
    assert.equal(created.body.portId, port.id);
    const taken = await service.request('POST', '/v1/bindings', { serviceId: 'H5', portId: port.id });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.error, 'port_taken');
    assert.equal(taken.body.bindingId, created.body.id);

    const id = created.body.id as number;
    const first = await service.request('POST', `/v1/bindings/${id}/confirm`);
    const second = await service.request('POST', `/v1/bindings/${id}/confirm`);
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(second.body.confirmedAt, first.body.confirmedAt);
    assert.equal(second.body.pushes.length, 1);

    const pushed = await waitFor('the pusher to deliver', async () => {
      const view = await service.request('GET', `/v1/bindings/${id}`);
      return view.body.syncState === 'pushed' ? view.body : null;
    });
    assert.equal(pushed.pushes[0].status, 'done');
    assert.equal(createdOnPlatform('H1').length, 1);
    const simPort = service.simulator.network.ports.get(Number(port.externalId))!;
    assert.equal(String(simPort.customerId), pushed.platformCustomerExternalId);

    const metrics = await service.request('GET', '/metrics', undefined, { token: null });
    assert.match(String(metrics.body), new RegExp(`mapsync_pushes_total\\{integration="${service.integrationId}",outcome="delivered"\\} [1-9]`));
    const openapi = await service.request('GET', '/openapi.json', undefined, { token: null });
    for (const path of ['/v1/customers', '/v1/bindings', '/v1/bindings/{id}/confirm', '/v1/pushes', '/v1/pushes/{id}/retry']) {
      assert.ok(openapi.body.paths[path], `${path} is in the OpenAPI document`);
    }

    assert.equal((await service.request('GET', '/v1/bindings/99999999')).status, 404);
    assert.equal((await service.request('GET', '/v1/bindings/abc')).status, 400);
    assert.equal((await service.request('POST', '/v1/bindings/99999999/confirm')).status, 404);
  });

  test('a push refused by the platform is listed as failed, and retried after the data is fixed', async () => {
    const created = await service.request('POST', '/v1/bindings', { serviceId: 'H2', portId: ports[1]!.id });
    assert.equal(created.status, 201);
    await service.request('POST', `/v1/bindings/${created.body.id}/confirm`);
    const failed = await waitFor('the push to be parked', async () => {
      const list = await service.request('GET', '/v1/pushes?status=failed');
      return list.body.pushes.find((p: { bindingId: number }) => p.bindingId === created.body.id);
    });
    assert.equal(failed.lastStatus, 400);
    assert.match(failed.lastError, /UF deve ter 2 letras/);
    assert.doesNotMatch(JSON.stringify(failed), new RegExp(cpfFor(2)), 'the document is masked');
    assert.equal((await service.request('GET', `/v1/bindings/${created.body.id}`)).body.syncState, 'failed');

    const fix = await service.request('POST', '/v1/customers', { items: [{ serviceId: 'H2', document: cpfFor(2), name: 'Bia', state: 'SP' }] });
    assert.equal(fix.body.updated, 1);
    const retried = await service.request('POST', `/v1/pushes/${failed.id}/retry`);
    assert.equal(retried.status, 200);
    assert.equal(retried.body.status, 'pending');
    assert.equal(retried.body.attempts, 0);
    await waitFor('the retried push to be delivered', async () => (await service.request('GET', `/v1/pushes/${failed.id}`)).body.status === 'done');
    assert.equal(createdOnPlatform('H2').length, 1);
    assert.equal((createdOnPlatform('H2')[0]!.body as { dados: { estado: string } }).dados.estado, 'SP');

    const again = await service.request('POST', `/v1/pushes/${failed.id}/retry`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'push_done');
    assert.equal((await service.request('POST', '/v1/pushes/99999999/retry')).status, 404);
    assert.equal((await service.request('GET', '/v1/pushes?status=nonsense')).status, 400);
    const all = await service.request('GET', '/v1/pushes?limit=1');
    assert.equal(all.body.pushes.length, 1);
    assert.equal(all.body.nextAfter, all.body.pushes[0].id);
  });

  test('DELETE /v1/bindings/:id cancels; a pushed binding is unbound on the platform', async () => {
    const created = await service.request('POST', '/v1/bindings', { serviceId: 'H5', portId: ports[2]!.id });
    await service.request('POST', `/v1/bindings/${created.body.id}/confirm`);
    await waitFor('the push', async () => (await service.request('GET', `/v1/bindings/${created.body.id}`)).body.syncState === 'pushed');
    const simPort = service.simulator.network.ports.get(Number(ports[2]!.externalId))!;
    assert.notEqual(simPort.customerId, null);

    const cancelled = await service.request('DELETE', `/v1/bindings/${created.body.id}`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    await waitFor('the unbind', async () => simPort.customerId === null);
    assert.equal((await service.request('DELETE', `/v1/bindings/${created.body.id}`)).status, 200, 'cancelling twice is fine');
    assert.equal((await service.request('DELETE', '/v1/bindings/99999999')).status, 404);
    const confirmCancelled = await service.request('POST', `/v1/bindings/${created.body.id}/confirm`);
    assert.equal(confirmCancelled.status, 409);
    assert.equal(confirmCancelled.body.error, 'binding_cancelled');
  });
  test('POST /v1/bindings on a planned port, splitter or box is refused with a code', async () => {
    const port = ports[5]!;
    const splitterId = (await service.db.knex('ports').where({ id: port.id }).first('splitter_id')).splitter_id;
    const boxId = (await service.db.knex('splitters').where({ id: splitterId }).first('box_id')).box_id;
    for (const [table, id, code] of [
      ['ports', port.id, 'port_planned'],
      ['splitters', splitterId, 'splitter_planned'],
      ['boxes', boxId, 'box_planned'],
    ] as const) {
      await service.db.knex(table).where({ id }).update({ planned: true });
      const refused = await service.request('POST', '/v1/bindings', { serviceId: 'H5', portId: port.id });
      assert.equal(refused.status, 422, JSON.stringify(refused.body));
      assert.equal(refused.body.error, code);
      await service.db.knex(table).where({ id }).update({ planned: false });
    }
  });
});
