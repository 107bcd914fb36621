import { transactional } from '../src/db/migration.ts';

/**
 * Planned items: what the platform marks as still being designed (GeoGrid `modoProjeto`)
 * is stored with a flag, shown distinctly and never offered for a binding (DESIGN.md,
 * Sync rules). Columns only: existing rows are built items until the next sync reads them.
 */
const COMMENTS: Record<string, string> = {
  poles: 'true when the platform marks the pole as still being designed (GeoGrid modoProjeto): not built, nothing on it can be bound',
  boxes: 'true when the platform marks the box as still being designed (GeoGrid modoProjeto): not built, its ports can never be bound; an auto box takes it from its pole',
  splitters: 'true when the platform marks the splitter as still being designed (GeoGrid modoProjeto): its ports can never be bound',
  ports: 'true when the platform marks the port or its splitter as still being designed (GeoGrid modoProjeto): never bindable',
};

export default transactional({
  async up(knex) {
    for (const [table, comment] of Object.entries(COMMENTS)) {
      await knex.schema.alterTable(table, (t) => t.boolean('planned').notNullable().defaultTo(false));
      await knex.raw(`COMMENT ON COLUMN ??.planned IS ${`'${comment.replaceAll("'", "''")}'`}`, [table]);
    }
  },
  async down(knex) {
    for (const table of Object.keys(COMMENTS).reverse()) {
      await knex.schema.alterTable(table, (t) => t.dropColumn('planned'));
    }
  },
});
