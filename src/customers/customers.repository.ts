import type { Knex } from 'knex';
import type { ContractInput } from './customer-input.ts';

export interface UpsertCounts {
  created: number;
  updated: number;
  unchanged: number;
}

export interface UpsertOutcome {
  contracts: UpsertCounts;
  customers: UpsertCounts;
}

/**
 * Upserts customers (by document) and their contracts (by service id) in two set-wise
 * statements, whatever the batch size. A row is rewritten only when something changed,
 * so re-sending the same data writes nothing. Optional fields left empty keep what is
 * stored (an export without an e-mail column does not wipe e-mails).
 * Items must already be unique by service id; for a document given twice the last wins.
 */
export async function upsertContracts(trx: Knex | Knex.Transaction, items: ContractInput[]): Promise<UpsertOutcome> {
  if (items.length === 0) return { contracts: zero(), customers: zero() };

  const customers = new Map<string, { document: string; name: string; person_type: string; email: string | null; phone: string | null }>();
  for (const item of items) {
    customers.set(item.document, {
      document: item.document,
      name: item.name,
      person_type: item.personType,
      email: item.email,
      phone: item.phone,
    });
  }

  const customerRows = await trx.raw(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset(?::jsonb) AS x(document text, name text, person_type text, email text, phone text)
     )
     INSERT INTO erp_customers AS c (document, name, person_type, email, phone)
     SELECT document, name, person_type, email, phone FROM input
     ON CONFLICT (document) DO UPDATE SET
       name = EXCLUDED.name,
       person_type = EXCLUDED.person_type,
       email = COALESCE(EXCLUDED.email, c.email),
       phone = COALESCE(EXCLUDED.phone, c.phone),
       updated_at = now()
     WHERE (c.name, c.person_type, c.email, c.phone)
           IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.person_type, COALESCE(EXCLUDED.email, c.email), COALESCE(EXCLUDED.phone, c.phone))
     RETURNING (xmax = 0) AS inserted`,
    [JSON.stringify([...customers.values()])],
  );
  const customerCounts = countsOf(customerRows.rows as { inserted: boolean }[], customers.size);

  const contracts = items.map((item) => ({
    service_id: item.serviceId,
    document: item.document,
    status: item.status,
    address: item.address,
    lat: item.lat,
    lon: item.lon,
    city: item.city,
    state: item.state,
    zip_code: item.zipCode,
  }));
  const contractRows = await trx.raw(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset(?::jsonb)
         AS x(service_id text, document text, status text, address text, lat float8, lon float8, city text, state text, zip_code text)
     )
     INSERT INTO service_contracts AS s (service_id, erp_customer_id, status, address, geom, city, state, zip_code)
     SELECT i.service_id, c.id, i.status, i.address,
            CASE WHEN i.lon IS NULL OR i.lat IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326) END,
            i.city, i.state, i.zip_code
       FROM input i JOIN erp_customers c ON c.document = i.document
     ON CONFLICT (service_id) DO UPDATE SET
       erp_customer_id = EXCLUDED.erp_customer_id,
       status = EXCLUDED.status,
       address = COALESCE(EXCLUDED.address, s.address),
       geom = COALESCE(EXCLUDED.geom, s.geom),
       city = COALESCE(EXCLUDED.city, s.city),
       state = COALESCE(EXCLUDED.state, s.state),
       zip_code = COALESCE(EXCLUDED.zip_code, s.zip_code),
       updated_at = now()
     WHERE (s.erp_customer_id, s.status, s.address, ST_AsEWKB(s.geom), s.city, s.state, s.zip_code)
           IS DISTINCT FROM (EXCLUDED.erp_customer_id, EXCLUDED.status, COALESCE(EXCLUDED.address, s.address),
                             ST_AsEWKB(COALESCE(EXCLUDED.geom, s.geom)), COALESCE(EXCLUDED.city, s.city),
                             COALESCE(EXCLUDED.state, s.state), COALESCE(EXCLUDED.zip_code, s.zip_code))
     RETURNING (xmax = 0) AS inserted`,
    [JSON.stringify(contracts)],
  );
  const contractCounts = countsOf(contractRows.rows as { inserted: boolean }[], contracts.length);

  return { contracts: contractCounts, customers: customerCounts };
}

function countsOf(rows: { inserted: boolean }[], total: number): UpsertCounts {
  const created = rows.filter((r) => r.inserted).length;
  const updated = rows.length - created;
  return { created, updated, unchanged: total - rows.length };
}

function zero(): UpsertCounts {
  return { created: 0, updated: 0, unchanged: 0 };
}
