import { describeTable, transactional } from '../src/db/migration.ts';

/**
 * What the push needs beyond the initial schema: the optional customer fields an admin
 * may whitelist (`push.fields`), a `cancelled` outbox status for a bind withdrawn before
 * it was delivered, and the indexes the pusher's claim query uses.
 */
export default transactional({
  async up(knex) {
    await knex.schema.alterTable('erp_customers', (t) => {
      t.text('email').nullable();
      t.text('phone').nullable();
    });
    await describeTable(knex, 'erp_customers', "The ERP's customers (clientes)", {
      email: 'e-mail; pushed only when push.fields lists email',
      phone: 'phone; pushed only when push.fields lists phone',
    });

    await knex.schema.alterTable('service_contracts', (t) => {
      t.text('city').nullable();
      t.text('state').nullable();
      t.text('zip_code').nullable();
    });
    await describeTable(knex, 'service_contracts', "The ERP's service contracts (id_cliente_servico)", {
      city: 'service address city; pushed only when push.fields lists city',
      state: 'service address state (UF); pushed only when push.fields lists state',
      zip_code: 'service address CEP; pushed only when push.fields lists zipCode',
    });

    await knex.raw('ALTER TABLE push_outbox DROP CONSTRAINT IF EXISTS push_outbox_status_check');
    await knex.raw(
      `ALTER TABLE push_outbox ADD CONSTRAINT push_outbox_status_check CHECK (status IN ('pending', 'in_progress', 'done', 'failed', 'cancelled'))`,
    );
    await knex.schema.alterTable('push_outbox', (t) => {
      t.integer('last_status').nullable();
    });
    await knex.raw(`CREATE INDEX push_outbox_lease_idx ON push_outbox (locked_at) WHERE status = 'in_progress'`);
    await knex.raw(`CREATE INDEX push_outbox_status_idx ON push_outbox (status, id)`);
    await describeTable(knex, 'push_outbox', 'Customer records and binds waiting to be pushed to the platform (written with the confirmation)', {
      status: 'pending, in_progress, done, failed (parked: will not succeed without a change) or cancelled (binding cancelled before delivery)',
      locked_by: 'process delivering the row (host:pid:n) while in_progress',
      locked_at: 'when that process claimed it; a row in_progress past the lease is claimed again',
      done_at: 'when the platform accepted it (UTC)',
      last_status: 'HTTP status of the last failed platform call, when there was one',
    });
  },

  async down(knex) {
    await knex.raw('DROP INDEX IF EXISTS push_outbox_status_idx');
    await knex.raw('DROP INDEX IF EXISTS push_outbox_lease_idx');
    await knex.schema.alterTable('push_outbox', (t) => {
      t.dropColumn('last_status');
    });
    await knex.raw(`UPDATE push_outbox SET status = 'failed' WHERE status = 'cancelled'`);
    await knex.raw('ALTER TABLE push_outbox DROP CONSTRAINT IF EXISTS push_outbox_status_check');
    await knex.raw(
      `ALTER TABLE push_outbox ADD CONSTRAINT push_outbox_status_check CHECK (status IN ('pending', 'in_progress', 'done', 'failed'))`,
    );
    await knex.schema.alterTable('service_contracts', (t) => {
      t.dropColumn('city');
      t.dropColumn('state');
      t.dropColumn('zip_code');
    });
    await knex.schema.alterTable('erp_customers', (t) => {
      t.dropColumn('email');
      t.dropColumn('phone');
    });
  },
});
