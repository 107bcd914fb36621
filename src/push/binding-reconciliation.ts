import type { Knex } from 'knex';

/**
 * After a sync merged an integration's ports and customers: every live binding whose port
 * the platform now shows holding that binding's customer is `in_sync`, and remembers the
 * platform customer's id (a later push then updates that customer instead of creating one).
 * The customer is recognised by its link to the contract, or by the integration code a push
 * wrote. Called by the sync engine inside its merge transaction; returns how many changed.
 */
export async function reconcileBindingsAfterSync(
  trx: Knex | Knex.Transaction,
  integrationId: string,
): Promise<{ inSync: number }> {
  const result = await trx.raw(
    `UPDATE bindings b
        SET sync_state = 'in_sync', platform_customer_external_id = pc.external_id, updated_at = now()
       FROM ports p, platform_customers pc, service_contracts sc
      WHERE b.integration_id = ?
        AND b.status <> 'cancelled'
        AND p.id = b.port_id
        AND p.removed_at IS NULL
        AND sc.id = b.service_contract_id
        AND pc.integration_id = b.integration_id
        AND pc.external_id = p.platform_customer_external_id
        AND pc.removed_at IS NULL
        AND (pc.service_contract_id = b.service_contract_id OR pc.integration_code = sc.service_id)
        AND (b.sync_state <> 'in_sync' OR b.platform_customer_external_id IS DISTINCT FROM pc.external_id)`,
    [integrationId],
  );
  return { inSync: result.rowCount ?? 0 };
}
