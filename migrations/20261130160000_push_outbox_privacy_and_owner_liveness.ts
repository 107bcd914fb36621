import { transactional } from '../src/db/migration.ts';

/**
 * 1. Personal data is kept only while it is needed (LGPD): once a push is over (done or
 * cancelled) its outbox row keeps the document masked as in the logs (`*******8909`, all
 * letters and digits but the last four) and the optional fields' names without their
 * values. A trigger does it, so no code path that ends a push can forget; rows already
 * ended are masked here too. Failed and waiting rows keep their payload: they are retried.
 * 2. `locked_session`: which pusher session holds an in_progress row, so a restarted
 * service takes over a dead process's pushes at once instead of after the 5-minute lease.
 */
export default transactional({
  async up(knex) {
    // `\\?` is knex's escape for a literal `?` (the regular expression's lookahead).
    await knex.raw(`
      CREATE FUNCTION push_payload_without_personal_data(payload jsonb) RETURNS jsonb
      LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE
          WHEN jsonb_typeof(payload -> 'customer') IS DISTINCT FROM 'object' THEN payload
          ELSE jsonb_set(payload, '{customer}',
            (payload -> 'customer')
            || CASE WHEN jsonb_typeof(payload #> '{customer,document}') = 'string'
                    THEN jsonb_build_object('document',
                           regexp_replace(payload #>> '{customer,document}', '[0-9A-Za-z](\\?=([^0-9A-Za-z]*[0-9A-Za-z]){4})', '*', 'g'))
                    ELSE '{}'::jsonb END
            || CASE WHEN jsonb_typeof(payload #> '{customer,extra}') = 'object'
                    THEN jsonb_build_object('extra',
                           COALESCE((SELECT jsonb_object_agg(key, '[removed]') FROM jsonb_each(payload #> '{customer,extra}')), '{}'::jsonb))
                    ELSE '{}'::jsonb END)
        END
      $$`);
    await knex.raw(`
      CREATE FUNCTION push_outbox_forget_personal_data() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        NEW.payload := push_payload_without_personal_data(NEW.payload);
        RETURN NEW;
      END
      $$`);
    await knex.raw(`
      CREATE TRIGGER push_outbox_forget_personal_data
      BEFORE INSERT OR UPDATE ON push_outbox
      FOR EACH ROW WHEN (NEW.status IN ('done', 'cancelled'))
      EXECUTE FUNCTION push_outbox_forget_personal_data()`);
    await knex.raw(`COMMENT ON FUNCTION push_payload_without_personal_data(jsonb) IS 'an ended push''s payload: document masked but its last four characters, optional field values removed (LGPD)'`);
    // Owner liveness (src/push/pusher-session.ts): rows of a dead pusher are taken over at once.
    await knex.schema.alterTable('push_outbox', (t) => t.integer('locked_session').nullable());
    await knex.raw(
      `COMMENT ON COLUMN push_outbox.locked_session IS 'advisory-lock key held by the claiming pusher''s database session; once that lock is gone the row is taken over without waiting for the lease'`,
    );
    await knex.raw(`UPDATE push_outbox SET payload = push_payload_without_personal_data(payload) WHERE status IN ('done', 'cancelled')`);
    await knex.raw(`COMMENT ON COLUMN push_outbox.payload IS 'the whitelisted customer record to send; once done or cancelled the document is masked and optional field values removed'`);
  },
  async down(knex) {
    await knex.schema.alterTable('push_outbox', (t) => t.dropColumn('locked_session'));
    await knex.raw('DROP TRIGGER IF EXISTS push_outbox_forget_personal_data ON push_outbox');
    await knex.raw('DROP FUNCTION IF EXISTS push_outbox_forget_personal_data()');
    await knex.raw('DROP FUNCTION IF EXISTS push_payload_without_personal_data(jsonb)');
    await knex.raw(`COMMENT ON COLUMN push_outbox.payload IS 'the whitelisted customer record to send'`);
  },
});
