import type { Knex } from 'knex';
import type { ErpContract } from '../src/simulator/network-generator.ts';

/**
 * Loads the ERP side of a simulated network (customers and their service contracts) set-wise,
 * for the benchmark and the end-to-end tests.
 */
export async function seedErpContracts(knex: Knex, contracts: ErpContract[], batchSize = 20_000): Promise<void> {
  for (let i = 0; i < contracts.length; i += batchSize) {
    const batch = contracts.slice(i, i + batchSize);
    await knex.raw(
      `WITH c AS (
         SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[]) AS u(document, name, service_id, status)
       ), customers AS (
         INSERT INTO erp_customers (document, name, person_type)
         SELECT DISTINCT ON (document) document, name, CASE WHEN length(document) = 11 THEN 'person' ELSE 'company' END
           FROM c ORDER BY document
         ON CONFLICT (document) DO UPDATE SET name = EXCLUDED.name
         RETURNING id, document
       )
       INSERT INTO service_contracts (service_id, erp_customer_id, status)
       SELECT c.service_id, coalesce(customers.id, existing.id), c.status
         FROM c
         LEFT JOIN customers ON customers.document = c.document
         LEFT JOIN erp_customers existing ON existing.document = c.document
       ON CONFLICT (service_id) DO NOTHING`,
      [
        toArray(batch.map((c) => c.document)),
        toArray(batch.map((c) => c.name)),
        toArray(batch.map((c) => c.serviceId)),
        toArray(batch.map((c) => c.status)),
      ],
    );
  }
}

/** A text[] literal: knex would expand a JS array binding into a list. */
function toArray(values: string[]): string {
  return `{${values.map((v) => `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
}
