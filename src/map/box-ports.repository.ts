import type { Knex } from 'knex';
import { OFFERED_PORT_SQL } from './offered-ports.sql.ts';

/** What a port is for a new customer: `free` is the only state viability offers. */
export type PortState = 'free' | 'taken' | 'held' | 'unavailable' | 'planned';

export interface BoxPort {
  id: number;
  externalId: string;
  number: number;
  label: string | null;
  state: PortState;
  /** The platform customer on the port, as the last sync read it. */
  customer: { id: number | null; externalId: string; name: string | null; linkStatus: string | null; serviceId: string | null } | null;
  /** A mapsync binding holding the port (pending or confirmed). */
  binding: { id: number; status: string; syncState: string; serviceId: string } | null;
}

export interface BoxSplitter {
  id: number;
  externalId: string;
  name: string | null;
  role: string;
  ratio: string;
  planned: boolean;
  ports: BoxPort[];
}

export interface BoxPorts {
  box: { id: number; integrationId: string; externalId: string; name: string | null; boxKind: string; auto: boolean; planned: boolean; lat: number; lon: number };
  splitters: BoxSplitter[];
}

/**
 * A box (a CTO, or the auto box of a pole) with its splitters still on the platform, their
 * ports in order, and who is on each: the platform customer the last sync saw, and any
 * mapsync binding holding it. Ports of a distribution splitter are not stored, so such a
 * splitter lists none. Returns null for an unknown or removed box.
 */
export async function loadBoxPorts(knex: Knex, boxId: number): Promise<BoxPorts | null> {
  const box = await knex('boxes as b')
    .leftJoin('poles as pl', 'pl.id', 'b.pole_id')
    .where('b.id', boxId)
    .whereNull('b.removed_at')
    .first<Record<string, any> | undefined>(
      'b.id', 'b.integration_id', 'b.external_id', 'b.name', 'b.kind', 'b.auto',
      knex.raw('(b.planned OR COALESCE(pl.planned, false)) AS planned'),
      knex.raw('ST_Y(b.geom) AS lat'),
      knex.raw('ST_X(b.geom) AS lon'),
    );
  if (!box) return null;
  const rows = (
    await knex.raw<{ rows: Record<string, any>[] }>(
      `SELECT s.id AS splitter_id, s.external_id AS splitter_external_id, s.name AS splitter_name, s.role,
              s.ratio_in || 'x' || s.ratio_out AS ratio, (s.planned OR b.planned OR COALESCE(pl.planned, false)) AS splitter_planned,
              p.id, p.external_id, p.number, p.label, p.available, p.planned, p.platform_customer_external_id,
              ${OFFERED_PORT_SQL} AS offered,
              pc.id AS customer_id, pc.name AS customer_name, pc.link_status, sc.service_id AS customer_service_id,
              bd.id AS binding_id, bd.status AS binding_status, bd.sync_state, bsc.service_id AS binding_service_id
         FROM splitters s
         JOIN boxes b ON b.id = s.box_id
         LEFT JOIN poles pl ON pl.id = b.pole_id
         LEFT JOIN ports p ON p.splitter_id = s.id AND p.removed_at IS NULL
         LEFT JOIN platform_customers pc ON pc.integration_id = p.integration_id AND pc.external_id = p.platform_customer_external_id AND pc.removed_at IS NULL
         LEFT JOIN service_contracts sc ON sc.id = pc.service_contract_id
         LEFT JOIN bindings bd ON bd.port_id = p.id AND bd.status <> 'cancelled'
         LEFT JOIN service_contracts bsc ON bsc.id = bd.service_contract_id
        WHERE s.box_id = ? AND s.removed_at IS NULL
        ORDER BY s.role DESC, s.name NULLS LAST, s.id, p.number, p.id`,
      [boxId],
    )
  ).rows;
  const splitters = new Map<number, BoxSplitter>();
  for (const row of rows) {
    const splitterId = Number(row.splitter_id);
    let splitter = splitters.get(splitterId);
    if (!splitter) {
      splitter = { id: splitterId, externalId: row.splitter_external_id, name: row.splitter_name, role: row.role, ratio: row.ratio, planned: row.splitter_planned, ports: [] };
      splitters.set(splitterId, splitter);
    }
    if (row.id === null) continue;
    const state: PortState = row.offered
      ? 'free'
      : row.planned || row.splitter_planned
        ? 'planned'
        : row.platform_customer_external_id !== null
          ? 'taken'
          : row.binding_id !== null
            ? 'held'
            : 'unavailable';
    splitter.ports.push({
      id: Number(row.id),
      externalId: row.external_id,
      number: row.number,
      label: row.label,
      state,
      customer:
        row.platform_customer_external_id === null
          ? null
          : {
              id: row.customer_id === null ? null : Number(row.customer_id),
              externalId: row.platform_customer_external_id,
              name: row.customer_name,
              linkStatus: row.link_status,
              serviceId: row.customer_service_id,
            },
      binding: row.binding_id === null ? null : { id: Number(row.binding_id), status: row.binding_status, syncState: row.sync_state, serviceId: row.binding_service_id },
    });
  }
  return {
    box: {
      id: Number(box.id),
      integrationId: box.integration_id,
      externalId: box.external_id,
      name: box.name,
      boxKind: box.kind,
      auto: box.auto,
      planned: box.planned,
      lat: Number(box.lat),
      lon: Number(box.lon),
    },
    splitters: [...splitters.values()],
  };
}
