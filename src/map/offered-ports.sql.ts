/**
 * The one rule of which port can be offered to a new customer, shared by the tiles (free
 * ports of a box), viability and a box's port list, as SQL over the aliases
 * `p` (ports), `s` (splitters), `b` (boxes) and `pl` (the box's pole, LEFT JOINed).
 *
 * A port is offered when it is on a service splitter, free on the platform (neither taken,
 * reserved nor blocked: the adapters store those as `available = false`), not already held
 * by a mapsync binding that is pending or confirmed, and nothing on the way to it (port,
 * splitter, box, pole) is planned or removed. Source: DESIGN.md, Sync rules ("Planned items
 * … never offered for a binding or a viability answer"); the binding rules of
 * src/bindings/bindings.service.ts.
 */
export const OFFERED_PORT_SQL = `(${portSideSql()} AND ${containerSideSql()})`;

/** The rule's part about the port itself and its splitter (aliases `p`, `s`). */
export function portSideSql(): string {
  return `(p.removed_at IS NULL AND p.available AND NOT p.planned AND p.platform_customer_external_id IS NULL
  AND s.removed_at IS NULL AND s.role = 'service' AND NOT s.planned
  AND NOT EXISTS (SELECT 1 FROM bindings held WHERE held.port_id = p.id AND held.status <> 'cancelled'))`;
}

/** The rule's part about the box and its pole (aliases `b`, `pl`): the same for every port of a box. */
export function containerSideSql(): string {
  return `(b.removed_at IS NULL AND NOT b.planned AND NOT COALESCE(pl.planned, false))`;
}

/** A service port that exists (the denominator beside the offered ones). */
export const SERVICE_PORT_SQL = `(p.removed_at IS NULL AND s.removed_at IS NULL AND s.role = 'service')`;
