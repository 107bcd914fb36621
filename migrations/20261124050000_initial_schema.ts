import type { Knex } from 'knex';
import { describeTable, transactional } from '../src/db/migration.ts';
import { gistIndexSql } from '../src/db/geometry/postgis-geometry.helper.ts';

const NETWORK_TABLES = ['poles', 'boxes', 'splitters', 'ports', 'platform_customers'] as const;

/** Columns every network row has: the platform's id, change detection and soft delete. */
function networkColumns(knex: Knex, table: Knex.CreateTableBuilder): void {
  table.bigIncrements('id').primary();
  table.text('integration_id').notNullable().references('integrations.id').onDelete('CASCADE');
  table.text('external_id').notNullable();
  table.text('content_hash').notNullable();
  table.uuid('last_run_id').nullable();
  table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  table.timestamp('removed_at', { useTz: true }).nullable();
  table.unique(['integration_id', 'external_id']);
}

const networkComments = {
  id: 'mapsync row id',
  integration_id: 'integration (config/ id) the row was synced from',
  external_id: "the platform's own id, unique per integration",
  content_hash: 'hash of the synced content; a run rewrites the row only when it changes',
  last_run_id: 'the sync run that last created or changed the row',
  created_at: 'first seen (UTC)',
  updated_at: 'last changed (UTC)',
  removed_at: 'set when the element disappeared from the platform (soft delete); NULL while it exists',
};

export default transactional({
  async up(knex) {
    await knex.raw('CREATE EXTENSION IF NOT EXISTS postgis');

    await knex.schema.createTable('integrations', (t) => {
      t.text('id').primary();
      t.text('platform').notNullable();
      t.text('api_url').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await describeTable(knex, 'integrations', 'A mapping-platform account declared in config/; the config is the source of truth', {
      id: 'integration id from config/',
      platform: 'geogrid | ozmap | simulator',
      api_url: 'platform panel URL (https)',
    });

    await knex.schema.createTable('projects', (t) => {
      t.bigIncrements('id').primary();
      t.text('integration_id').notNullable().unique().references('integrations.id').onDelete('CASCADE');
      t.text('external_id').nullable();
      t.text('name').notNullable();
      t.text('mode').notNullable().checkIn(['link', 'create']);
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await knex.raw('CREATE UNIQUE INDEX projects_platform_project_unique ON projects (external_id, integration_id)');
    await describeTable(knex, 'projects', 'The one project each integration syncs into', {
      integration_id: 'owning integration; one project per integration',
      external_id: "the platform's project/folder id once linked or created",
      name: 'project name',
      mode: 'link: linked to an existing platform project; create: created by mapsync',
    });

    await knex.schema.createTable('poles', (t) => {
      networkColumns(knex, t);
      t.bigInteger('project_id').nullable().references('projects.id').onDelete('SET NULL');
      t.text('project_external_id').nullable();
      t.text('name').nullable();
      t.text('observation').nullable();
      t.boolean('selected').notNullable().defaultTo(true);
      t.specificType('geom', 'geometry(Point, 4326)').notNullable();
    });
    await describeTable(knex, 'poles', 'Poles (postes) from the mapping platform', {
      ...networkComments,
      project_id: 'mapsync project',
      project_external_id: 'platform folder/project id',
      name: 'pole name or code (sigla)',
      observation: 'free-text observation from the platform',
      selected: 'true when poles are a synced kind; false when kept only as the container of synced equipment',
      geom: 'position, EPSG:4326',
    });

    await knex.schema.createTable('boxes', (t) => {
      networkColumns(knex, t);
      t.bigInteger('project_id').nullable().references('projects.id').onDelete('SET NULL');
      t.text('project_external_id').nullable();
      t.text('name').nullable();
      t.text('kind').notNullable().checkIn(['cto', 'splice', 'other']);
      t.boolean('auto').notNullable().defaultTo(false);
      t.bigInteger('pole_id').nullable().references('poles.id').onDelete('SET NULL');
      t.text('pole_link').nullable().checkIn(['platform', 'nearest', 'auto']);
      t.boolean('selected').notNullable().defaultTo(true);
      t.specificType('geom', 'geometry(Point, 4326)').notNullable();
    });
    await describeTable(knex, 'boxes', 'Boxes: CTOs (service boxes) and splice closures; auto boxes hold equipment mounted directly on a pole', {
      ...networkComments,
      project_id: 'mapsync project',
      project_external_id: 'platform folder/project id',
      name: 'box name or code',
      kind: 'cto (service box), splice (CEO, splice closure) or other',
      auto: 'true for a service box mapsync created for a pole that carries equipment; never pushed to the platform',
      pole_id: 'the pole the box hangs on',
      pole_link: "how pole_id was found: platform (the platform's link), nearest (nearest pole within attachRadiusMeters), auto (auto box of that pole)",
      selected: 'true when boxes are a synced kind; false when kept only as the container of synced splitters',
      geom: 'position, EPSG:4326',
    });

    await knex.schema.createTable('splitters', (t) => {
      networkColumns(knex, t);
      t.bigInteger('box_id').nullable().references('boxes.id').onDelete('SET NULL');
      t.text('container_external_id').notNullable();
      t.text('name').nullable();
      t.text('role').notNullable().checkIn(['service', 'distribution']);
      t.integer('ratio_in').notNullable();
      t.integer('ratio_out').notNullable();
    });
    await describeTable(knex, 'splitters', 'Optical splitters; service splitters feed customers, distribution splitters feed other splitters', {
      ...networkComments,
      box_id: 'the box (or auto box of a pole) holding the splitter',
      container_external_id: 'platform id of the box or pole holding the splitter',
      name: 'splitter name or type (e.g. 1x8)',
      role: 'service (flagged for service on the platform) or distribution',
      ratio_in: 'input ports',
      ratio_out: 'output ports',
    });

    await knex.schema.createTable('ports', (t) => {
      networkColumns(knex, t);
      t.bigInteger('splitter_id').notNullable().references('splitters.id').onDelete('CASCADE');
      t.integer('number').notNullable();
      t.text('label').nullable();
      t.boolean('available').notNullable();
      t.text('platform_customer_external_id').nullable();
    });
    await describeTable(knex, 'ports', 'Output ports of service splitters, with their occupancy on the platform', {
      ...networkComments,
      splitter_id: 'the splitter the port belongs to',
      number: 'port position on the splitter, from 1',
      label: 'port label',
      available: 'free on the platform',
      platform_customer_external_id: 'platform id of the customer on the port, if any',
    });

    await knex.schema.createTable('erp_customers', (t) => {
      t.bigIncrements('id').primary();
      t.text('document').notNullable().unique();
      t.text('name').notNullable();
      t.text('person_type').notNullable().checkIn(['person', 'company']);
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await describeTable(knex, 'erp_customers', "The ERP's customers (clientes)", {
      document: 'CPF or CNPJ in normal form (digits, or [0-9A-Z] for the alphanumeric CNPJ)',
      name: 'customer name',
      person_type: 'person (CPF) or company (CNPJ)',
    });

    await knex.schema.createTable('service_contracts', (t) => {
      t.bigIncrements('id').primary();
      t.text('service_id').notNullable().unique();
      t.bigInteger('erp_customer_id').notNullable().references('erp_customers.id').onDelete('CASCADE');
      t.text('status').notNullable().checkIn(['active', 'inactive', 'suspended', 'cancelled']);
      t.text('address').nullable();
      t.specificType('geom', 'geometry(Point, 4326)').nullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await knex.raw('CREATE INDEX service_contracts_customer_idx ON service_contracts (erp_customer_id)');
    await describeTable(knex, 'service_contracts', "The ERP's service contracts (id_cliente_servico)", {
      service_id: "the ERP's id_cliente_servico",
      erp_customer_id: 'the contract holder',
      status: 'active, inactive, suspended or cancelled',
      address: 'service address',
      geom: 'service location, EPSG:4326, when known',
    });

    await knex.schema.createTable('platform_customers', (t) => {
      networkColumns(knex, t);
      t.text('name').nullable();
      t.text('document').nullable();
      t.text('document_masked').nullable();
      t.text('observation').nullable();
      t.text('integration_code').nullable();
      t.text('port_external_id').nullable();
      t.text('link_status').notNullable().checkIn(['linked', 'linked_by_document', 'document_mismatch', 'ambiguous', 'unmatched']);
      t.text('link_reason').nullable();
      t.bigInteger('service_contract_id').nullable().references('service_contracts.id').onDelete('SET NULL');
      t.specificType('geom', 'geometry(Point, 4326)').nullable();
    });
    await knex.raw('CREATE INDEX platform_customers_contract_idx ON platform_customers (service_contract_id)');
    await describeTable(knex, 'platform_customers', "Customers as the platform shows them, and their link to the ERP's service contracts", {
      ...networkComments,
      name: 'name on the platform',
      document: 'document in normal form when valid; NULL when missing or invalid',
      document_masked: 'the document as typed, masked',
      observation: 'observation field; holds the id_cliente_servico',
      integration_code: 'platform integration code (codigoIntegracao)',
      port_external_id: 'platform id of the port the customer is on',
      link_status: 'linked, linked_by_document, document_mismatch, ambiguous or unmatched',
      link_reason: 'why the link has that status',
      service_contract_id: 'the linked ERP service contract',
      geom: 'position of the port box, EPSG:4326, when known',
    });

    await knex.schema.createTable('bindings', (t) => {
      t.bigIncrements('id').primary();
      t.text('integration_id').notNullable().references('integrations.id').onDelete('CASCADE');
      t.bigInteger('service_contract_id').notNullable().references('service_contracts.id').onDelete('RESTRICT');
      t.bigInteger('port_id').notNullable().references('ports.id').onDelete('RESTRICT');
      t.text('status').notNullable().checkIn(['pending', 'confirmed', 'cancelled']);
      t.text('sync_state').notNullable().defaultTo('not_pushed').checkIn(['not_pushed', 'queued', 'pushed', 'in_sync', 'failed']);
      t.text('platform_customer_external_id').nullable();
      t.timestamp('confirmed_at', { useTz: true }).nullable();
      t.timestamp('cancelled_at', { useTz: true }).nullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await knex.raw(`CREATE UNIQUE INDEX bindings_one_per_port ON bindings (port_id) WHERE status <> 'cancelled'`);
    await knex.raw(`CREATE UNIQUE INDEX bindings_one_per_contract ON bindings (service_contract_id) WHERE status <> 'cancelled'`);
    await describeTable(knex, 'bindings', 'A service contract bound to a service port (vinculo)', {
      service_contract_id: 'the bound ERP service contract',
      port_id: 'the service port',
      status: 'pending, confirmed (pushed to the platform) or cancelled',
      sync_state: 'not_pushed, queued, pushed, in_sync (the platform shows it) or failed',
      platform_customer_external_id: 'platform customer id once pushed or seen',
      confirmed_at: 'when the binding was confirmed (UTC)',
      cancelled_at: 'when the binding was cancelled (UTC)',
    });

    await knex.schema.createTable('push_outbox', (t) => {
      t.bigIncrements('id').primary();
      t.text('integration_id').notNullable().references('integrations.id').onDelete('CASCADE');
      t.bigInteger('binding_id').notNullable().references('bindings.id').onDelete('CASCADE');
      t.text('action').notNullable().checkIn(['bind', 'unbind']);
      t.jsonb('payload').notNullable();
      t.text('status').notNullable().defaultTo('pending').checkIn(['pending', 'in_progress', 'done', 'failed']);
      t.integer('attempts').notNullable().defaultTo(0);
      t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.text('last_error').nullable();
      t.text('locked_by').nullable();
      t.timestamp('locked_at', { useTz: true }).nullable();
      t.timestamp('done_at', { useTz: true }).nullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.unique(['binding_id', 'action']);
    });
    await knex.raw(`CREATE INDEX push_outbox_due_idx ON push_outbox (next_attempt_at) WHERE status = 'pending'`);
    await describeTable(knex, 'push_outbox', 'Customer records and binds waiting to be pushed to the platform (written with the confirmation)', {
      binding_id: 'the binding that caused the push',
      action: 'bind or unbind',
      payload: 'the whitelisted customer record to send',
      status: 'pending, in_progress, done or failed (parked: will not succeed without a change)',
      attempts: 'delivery attempts so far',
      next_attempt_at: 'not tried before this time (backoff)',
      last_error: "last error, with the platform's message",
    });

    await knex.schema.createTable('sync_runs', (t) => {
      t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
      t.text('integration_id').notNullable().references('integrations.id').onDelete('CASCADE');
      t.text('trigger').notNullable().checkIn(['schedule', 'catch_up', 'manual', 'cli']);
      t.text('status').notNullable().checkIn(['queued', 'running', 'succeeded', 'failed']);
      t.jsonb('options').notNullable().defaultTo('{}');
      t.jsonb('counts').notNullable().defaultTo('{}');
      t.jsonb('progress').nullable();
      t.text('error').nullable();
      t.text('owner').nullable();
      t.timestamp('queued_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('started_at', { useTz: true }).nullable();
      t.timestamp('heartbeat_at', { useTz: true }).nullable();
      t.timestamp('finished_at', { useTz: true }).nullable();
      t.timestamp('scheduled_for', { useTz: true }).nullable();
    });
    await knex.raw(`CREATE UNIQUE INDEX sync_runs_one_active ON sync_runs (integration_id) WHERE status IN ('queued', 'running')`);
    await knex.raw('CREATE INDEX sync_runs_integration_idx ON sync_runs (integration_id, queued_at DESC)');
    await describeTable(knex, 'sync_runs', 'One sync of one integration: trigger, status, heartbeat and counts', {
      trigger: 'schedule, catch_up (missed while down), manual (HTTP) or cli',
      status: 'queued, running, succeeded or failed',
      options: 'run options (full, force)',
      counts: 'per element kind: created, updated, unchanged, removed, rejected',
      progress: 'live progress while running',
      error: 'why the run failed',
      owner: 'process running it (host:pid)',
      heartbeat_at: 'last sign of life; a running run with an old heartbeat is reaped',
      scheduled_for: 'the schedule slot this run was for',
    });

    await knex.schema.createTable('sync_issues', (t) => {
      t.bigIncrements('id').primary();
      t.uuid('run_id').notNullable().references('sync_runs.id').onDelete('CASCADE');
      t.text('integration_id').notNullable();
      t.text('kind').notNullable();
      t.text('external_id').nullable();
      t.text('code').notNullable();
      t.text('reason').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await knex.raw('CREATE INDEX sync_issues_run_idx ON sync_issues (run_id, kind)');
    await describeTable(knex, 'sync_issues', "A run's issues: rejected elements, unlinked customers, removed ports with bindings", {
      kind: 'element kind or customer',
      external_id: 'platform id of the element, when it has one',
      code: 'stable reason code',
      reason: 'what is wrong, for an admin; documents are masked',
    });

    for (const table of ['poles', 'boxes', 'platform_customers', 'service_contracts']) {
      await knex.raw(gistIndexSql(table));
    }
    await knex.raw('CREATE INDEX boxes_pole_idx ON boxes (pole_id)');
    await knex.raw('CREATE INDEX splitters_box_idx ON splitters (box_id)');
    await knex.raw('CREATE INDEX ports_splitter_idx ON ports (splitter_id)');
    await knex.raw('CREATE INDEX platform_customers_document_idx ON platform_customers (document)');
  },

  async down(knex) {
    for (const table of ['sync_issues', 'sync_runs', 'push_outbox', 'bindings', ...NETWORK_TABLES.slice().reverse(), 'service_contracts', 'erp_customers', 'projects', 'integrations']) {
      await knex.schema.dropTableIfExists(table);
    }
  },
});
