import type { Knex } from 'knex';

export interface SearchHit {
  kind: 'customer' | 'box' | 'contract';
  /** mapsync row id of the customer, box or contract. */
  id: number;
  integrationId: string | null;
  name: string | null;
  externalId: string | null;
  serviceId: string | null;
  linkStatus: string | null;
  /** EPSG:4326; null for a contract with no stored location. */
  lat: number | null;
  lon: number | null;
}

export const SEARCH_LIMIT = { default: 10, max: 50 } as const;

/** `%` and `_` typed by a user are searched as themselves. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The map's search box: a service id (`id_cliente_servico`, exact) finds its platform customer,
 * or the ERP contract itself when no customer on the map is linked to it; a part of a customer
 * name or a box name finds those (case- and accent-sensitive as stored, names that start with
 * the text first). Removed elements are left out.
 * @returns at most `limit` hits, exact service-id matches first
 */
export async function searchMap(knex: Knex, input: { integrationId: string; q: string; limit?: number }): Promise<SearchHit[]> {
  const limit = input.limit ?? SEARCH_LIMIT.default;
  const text = input.q.trim();
  const pattern = likePattern(text);
  const prefix = `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const result = await knex.raw<{ rows: Record<string, any>[] }>(
    `(SELECT 0 AS rank, 'customer' AS kind, pc.id, pc.integration_id, pc.name, pc.external_id, sc.service_id, pc.link_status,
             ST_Y(pc.geom) AS lat, ST_X(pc.geom) AS lon
        FROM service_contracts sc JOIN platform_customers pc ON pc.service_contract_id = sc.id
       WHERE sc.service_id = :text AND pc.integration_id = :integration AND pc.removed_at IS NULL)
     UNION ALL
     (SELECT 0, 'contract', sc.id, NULL, c.name, NULL, sc.service_id, NULL, ST_Y(sc.geom), ST_X(sc.geom)
        FROM service_contracts sc JOIN erp_customers c ON c.id = sc.erp_customer_id
       WHERE sc.service_id = :text
         AND NOT EXISTS (SELECT 1 FROM platform_customers pc WHERE pc.service_contract_id = sc.id AND pc.integration_id = :integration AND pc.removed_at IS NULL))
     UNION ALL
     (SELECT CASE WHEN b.name ILIKE :prefix THEN 1 ELSE 2 END, 'box', b.id, b.integration_id, b.name, b.external_id, NULL, NULL, ST_Y(b.geom), ST_X(b.geom)
        FROM boxes b
       WHERE b.integration_id = :integration AND b.removed_at IS NULL AND b.name ILIKE :pattern
       ORDER BY 1, b.name LIMIT :limit)
     UNION ALL
     (SELECT CASE WHEN pc.name ILIKE :prefix THEN 1 ELSE 2 END, 'customer', pc.id, pc.integration_id, pc.name, pc.external_id, sc.service_id, pc.link_status,
             ST_Y(pc.geom), ST_X(pc.geom)
        FROM platform_customers pc LEFT JOIN service_contracts sc ON sc.id = pc.service_contract_id
       WHERE pc.integration_id = :integration AND pc.removed_at IS NULL AND pc.name ILIKE :pattern
       ORDER BY 1, pc.name LIMIT :limit)
     ORDER BY rank, name
     LIMIT :limit`,
    { text, integration: input.integrationId, pattern, prefix, limit },
  );
  return result.rows.map((row) => ({
    kind: row.kind,
    id: Number(row.id),
    integrationId: row.integration_id,
    name: row.name,
    externalId: row.external_id,
    serviceId: row.service_id,
    linkStatus: row.link_status,
    lat: row.lat === null ? null : Number(row.lat),
    lon: row.lon === null ? null : Number(row.lon),
  }));
}
