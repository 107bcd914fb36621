import type { RunConnection } from './run-connection.ts';
import type { RunIssuesWriter } from './run-issues.writer.ts';
import type { RunProgressTracker } from './run-progress.ts';
import { AUTO_BOX_PREFIX, type Selection } from './selection.ts';
import type { StagingTables } from './staging.ts';

/**
 * Turns what was pulled into what will be stored, set-wise in staging: auto boxes for poles
 * that carry equipment, the pole each box hangs on, which containers and customers are kept,
 * and where each customer's port is.
 */
export async function resolveStaging(
  db: RunConnection,
  t: StagingTables,
  options: { selection: Selection; attachRadiusMeters: number; issues: RunIssuesWriter; progress: RunProgressTracker },
): Promise<void> {
  // Equipment whose container is not (or no longer) in the platform's lists cannot be placed.
  const orphans = await db.query<{ external_id: string; container_external_id: string; container_kind: string }>(
    `DELETE FROM ${t.splitters} s
      WHERE (s.container_kind = 'box' AND NOT EXISTS (SELECT 1 FROM ${t.boxes} b WHERE b.external_id = s.container_external_id))
         OR (s.container_kind = 'pole' AND NOT EXISTS (SELECT 1 FROM ${t.poles} p WHERE p.external_id = s.container_external_id))
      RETURNING s.external_id, s.container_external_id, s.container_kind`,
  );
  options.progress.rejected('splitters', orphans.length);
  for (const orphan of orphans) {
    await options.issues.add({
      kind: 'splitters',
      externalId: orphan.external_id,
      code: 'unknown_container',
      reason: `splitter ${orphan.external_id} sits in ${orphan.container_kind} ${orphan.container_external_id}, which the platform does not list`,
    });
  }
  if (orphans.length > 0) {
    await db.query(`DELETE FROM ${t.ports} p WHERE NOT EXISTS (SELECT 1 FROM ${t.splitters} s WHERE s.external_id = p.splitter_external_id)`);
  }

  // A pole that carries kept equipment directly gets a service box of its own.
  await db.query(
    `INSERT INTO ${t.boxes} (external_id, project_external_id, name, kind, lon, lat, auto, pole_external_id, pole_link, keep, planned)
     SELECT '${AUTO_BOX_PREFIX}' || p.external_id, p.project_external_id, p.name, 'cto', p.lon, p.lat, true, p.external_id, 'auto', true, p.planned
       FROM ${t.poles} p
      WHERE EXISTS (SELECT 1 FROM ${t.splitters} s WHERE s.keep AND s.container_kind = 'pole' AND s.container_external_id = p.external_id)
     ON CONFLICT (external_id) DO NOTHING`,
  );

  // Boxes holding kept equipment are kept as its containers.
  if (!options.selection.boxes) {
    await db.query(
      `UPDATE ${t.boxes} b SET keep = true
        WHERE NOT b.keep AND EXISTS (SELECT 1 FROM ${t.splitters} s WHERE s.keep AND s.box_external_id = b.external_id)`,
    );
  }

  // The platform's own pole link, when that pole exists.
  await db.query(
    `UPDATE ${t.boxes} b SET pole_external_id = b.platform_pole_external_id, pole_link = 'platform'
      WHERE b.keep AND NOT b.auto AND b.platform_pole_external_id IS NOT NULL
        AND EXISTS (SELECT 1 FROM ${t.poles} p WHERE p.external_id = b.platform_pole_external_id)`,
  );
  // Otherwise the nearest pole within the radius: KNN on the GiST index for candidates,
  // then the true distance on the spheroid.
  await db.query(`CREATE INDEX ON ${t.poles} USING GIST (geom)`);
  await db.query(`ANALYZE ${t.poles}`);
  await db.query(
    `UPDATE ${t.boxes} b SET pole_external_id = n.external_id, pole_link = 'nearest'
       FROM (
         SELECT b2.external_id AS box_id, near.external_id
           FROM ${t.boxes} b2
           CROSS JOIN LATERAL (
             SELECT c.external_id, c.geom
               FROM (SELECT p.external_id, p.geom FROM ${t.poles} p ORDER BY p.geom <-> b2.geom LIMIT 8) c
              WHERE ST_DWithin(c.geom::geography, b2.geom::geography, $1)
              ORDER BY ST_Distance(c.geom::geography, b2.geom::geography), c.external_id
              LIMIT 1
           ) near
          WHERE b2.keep AND NOT b2.auto AND b2.pole_link IS NULL
       ) n
      WHERE b.external_id = n.box_id`,
    [options.attachRadiusMeters],
  );

  // Poles that boxes hang on are kept as their containers.
  if (!options.selection.poles) {
    await db.query(
      `UPDATE ${t.poles} p SET keep = true
        WHERE NOT p.keep AND EXISTS (SELECT 1 FROM ${t.boxes} b WHERE b.keep AND b.pole_external_id = p.external_id)`,
    );
  }

  // Customers on kept ports: listed ones are marked, unlisted ones are staged from the port.
  await db.query(
    `INSERT INTO ${t.customers} (external_id, name, listed, keep)
     SELECT DISTINCT ON (p.customer_external_id) p.customer_external_id, p.customer_name, false, true
       FROM ${t.ports} p
      WHERE p.keep AND p.customer_external_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM ${t.customers} c WHERE c.external_id = p.customer_external_id)
      ORDER BY p.customer_external_id, p.external_id
     ON CONFLICT (external_id) DO NOTHING`,
  );
  await db.query(
    `UPDATE ${t.customers} c SET keep = true, port_external_id = at.port_external_id, lon = at.lon, lat = at.lat
       FROM (
         SELECT DISTINCT ON (p.customer_external_id) p.customer_external_id, p.external_id AS port_external_id, b.lon, b.lat
           FROM ${t.ports} p
           JOIN ${t.splitters} s ON s.external_id = p.splitter_external_id
           LEFT JOIN ${t.boxes} b ON b.external_id = s.box_external_id
          WHERE p.keep AND p.customer_external_id IS NOT NULL
          ORDER BY p.customer_external_id, p.external_id
       ) at
      WHERE c.external_id = at.customer_external_id`,
  );
  for (const table of [t.boxes, t.splitters, t.ports, t.customers]) await db.query(`ANALYZE ${table}`);
}
