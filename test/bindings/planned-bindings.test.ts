import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BindingError } from '../../src/bindings/binding-error.ts';
import { confirmBinding, createBinding } from '../../src/bindings/bindings.service.ts';
import { upsertCustomers } from '../../src/customers/customers.service.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { cpfFor, seedIntegration } from '../push/helpers/push-fixtures.ts';

const INTEGRATION = 'planned';
const push = { settingsFor: (id: string) => (id === INTEGRATION ? { enabled: true, fields: ['name', 'document', 'serviceId'] } : null) };

/** Planned items (GeoGrid modoProjeto) are never bindable: each case names what is planned and the code. */
const CASES: Array<{ name: string; pole?: boolean; box?: boolean; splitter?: boolean; port?: boolean; code: string | null }> = [
  { name: 'everything built', code: null },
  { name: 'the port is planned', port: true, code: 'port_planned' },
  { name: 'the splitter is planned', splitter: true, code: 'splitter_planned' },
  { name: 'the box is planned', box: true, code: 'box_planned' },
  { name: 'the pole the box hangs on is planned', pole: true, code: 'box_planned' },
  { name: 'box and port planned: the box is named', box: true, port: true, code: 'box_planned' },
  { name: 'splitter and port planned: the splitter is named', splitter: true, port: true, code: 'splitter_planned' },
];

describe('planned items are never bindable', () => {
  let db: TestDatabase;
  let n = 0;

  before(async () => {
    db = await createTestDatabase();
    await seedIntegration(db.knex, INTEGRATION);
    await upsertCustomers(
      db.knex,
      Array.from({ length: CASES.length + 2 }, (_, i) => ({ serviceId: `PL${i}`, document: cpfFor(700 + i), name: `Cliente ${i}`, status: 'active' })),
    );
  });
  after(async () => db?.destroy());

  async function portWith(planned: { pole?: boolean; box?: boolean; splitter?: boolean; port?: boolean }) {
    n += 1;
    const insert = async (table: string, row: Record<string, unknown>) =>
      ((await db.knex(table).insert({ integration_id: INTEGRATION, content_hash: 'x', ...row }).returning('id'))[0] as { id: number }).id;
    const geom = db.knex.raw('ST_SetSRID(ST_MakePoint(-47.06, -22.9), 4326)');
    const pole = await insert('poles', { external_id: `PO${n}`, geom, planned: planned.pole === true });
    const box = await insert('boxes', { external_id: `BX${n}`, kind: 'cto', pole_id: pole, geom, planned: planned.box === true });
    const splitter = await insert('splitters', {
      external_id: `SP${n}`,
      box_id: box,
      container_external_id: `BX${n}`,
      role: 'service',
      ratio_in: 1,
      ratio_out: 8,
      planned: planned.splitter === true,
    });
    return insert('ports', { external_id: `PT${n}`, splitter_id: splitter, number: 1, available: true, planned: planned.port === true });
  }

  CASES.forEach((c, i) => {
    test(`${c.name} → ${c.code ?? 'bound'}`, async () => {
      const portId = await portWith(c);
      const attempt = createBinding(db.knex, { serviceId: `PL${i}`, port: { portId } });
      if (c.code === null) {
        assert.equal((await attempt).binding.status, 'pending');
        return;
      }
      await assert.rejects(attempt, (error: unknown) => {
        assert.ok(error instanceof BindingError);
        assert.equal(error.status, 422);
        assert.equal(error.code, c.code);
        assert.match(error.message, /modoProjeto/);
        return true;
      });
      assert.equal(await db.knex('bindings').where({ service_contract_id: db.knex('service_contracts').where({ service_id: `PL${i}` }).select('id') }).first(), undefined);
    });
  });

  test('a port that becomes planned after the binding was made cannot be confirmed, and nothing is queued', async () => {
    const portId = await portWith({});
    const serviceId = `PL${CASES.length}`;
    const { binding } = await createBinding(db.knex, { serviceId, port: { portId } });
    await db.knex('ports').where({ id: portId }).update({ planned: true });
    await assert.rejects(confirmBinding(db.knex, binding.id, push), (error: unknown) => error instanceof BindingError && error.code === 'port_planned');
    assert.deepEqual(await db.knex('push_outbox').where({ binding_id: binding.id }), []);
  });
});
