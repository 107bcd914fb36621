import type { Knex } from 'knex';

export interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
  config: { transaction: boolean };
}

type Step = (knex: Knex) => Promise<void>;

/** Runs inside a transaction: all of it applies, or none. */
export function transactional(steps: { up: Step; down: Step }): Migration {
  return { ...steps, config: { transaction: true } };
}

/** For statements PostgreSQL refuses inside a transaction (CREATE INDEX CONCURRENTLY, ...). */
export function nonTransactional(steps: { up: Step; down: Step }): Migration {
  return { ...steps, config: { transaction: false } };
}

/** COMMENT ON a table and its columns: GIS people read these in QGIS. */
export async function describeTable(
  knex: Knex,
  table: string,
  description: string,
  columns: Record<string, string>,
): Promise<void> {
  await knex.raw(`COMMENT ON TABLE ?? IS ${quote(description)}`, [table]);
  for (const [column, text] of Object.entries(columns)) {
    await knex.raw(`COMMENT ON COLUMN ??.?? IS ${quote(text)}`, [table, column]);
  }
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
