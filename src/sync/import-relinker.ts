import type { Knex } from 'knex';
import { normaliseDocument, rawDocumentFromStored } from '../domain/documents.ts';
import { decideLink, NO_DOCUMENT_SUFFIX, settleClaims, type ContractById, type ContractOfDocument } from '../domain/customer-linking.ts';

/**
 * Linking when ERP data arrives (issue 12): an import of contracts (`POST /v1/customers`,
 * `mapsync customers import`) decides again, right away, the links of the platform customers
 * it can change, with the sync's own rules (`decideLink`, then `settleClaims`), instead of
 * leaving them as they were until the next sync. A binding that the import makes right is
 * then accepted at once.
 *
 * Which platform customers an import can change, in every integration:
 * - those whose document is the holder's of a touched contract, before or after the import
 *   (every claimant of a contract has its holder's document, so claims are settled whole);
 * - those whose observation names a touched service id that was unknown (reason
 *   `unknown_id_…` or `several_ids_…`).
 * A customer whose platform document is invalid is left to the next sync: its raw value is
 * not stored, and no import can bind it (it stays `unmatched` or `document_mismatch`).
 * - on a platform whose customers carry no document (OZmap; its link reasons end in
 *   `_no_document`), those whose observation or integration code names a touched service id:
 *   they are decided again by ids alone (`decideLinkWithoutDocument`).
 *
 * A changed customer gets its new link, and its issue in the integration's last succeeded run
 * is replaced, as that run would have written it. Its `content_hash` is left as the last sync
 * wrote it: the next sync (which decides the same, the ERP being as the import left it)
 * rewrites the row, while a sync already past its linking step when the import came, whose
 * decision is the old one, leaves the new link alone.
 */
export interface ImportTouch {
  /** Holders (normal form) of the imported contracts. */
  documents: string[];
  serviceIds: string[];
  /** Holders of those contracts before the import (see `holdersOfContracts`). */
  previousDocuments: string[];
}

const DIGIT_RUN = /\d+/g;
const LEADING_ZEROS = /^0+/;
/** Longest id extractServiceId accepts. */
const MAX_ID_DIGITS = 10;

interface StoredCustomer {
  id: number;
  integration_id: string;
  external_id: string;
  name: string | null;
  document: string | null;
  document_masked: string | null;
  observation: string | null;
  integration_code: string | null;
  link_status: string;
  link_reason: string | null;
  service_contract_id: number | null;
}

interface ContractRow {
  id: number;
  service_id: string;
  status: string;
  document: string;
}

/** The documents of the current holders of these contracts (call it before the import). */
export async function holdersOfContracts(db: Knex | Knex.Transaction, serviceIds: string[]): Promise<string[]> {
  if (serviceIds.length === 0) return [];
  const { rows } = await db.raw(
    `SELECT DISTINCT ec.document FROM service_contracts sc JOIN erp_customers ec ON ec.id = sc.erp_customer_id
      WHERE sc.service_id IN (SELECT jsonb_array_elements_text(?::jsonb))`,
    [JSON.stringify(serviceIds)],
  );
  return (rows as { document: string }[]).map((row) => row.document);
}

/** Returns how many platform customers got another link. */
export async function relinkAfterImport(db: Knex | Knex.Transaction, touch: ImportTouch): Promise<number> {
  if (touch.serviceIds.length === 0 && touch.documents.length === 0) return 0;
  const serviceIds = [...new Set(touch.serviceIds)];
  const documents = new Set<string>();
  for (const document of [...touch.documents, ...touch.previousDocuments]) {
    documents.add(document);
    for (const other of otherReadings(document)) documents.add(other);
  }
  // One statement: the customers whose observation names a touched id that was unknown, then
  // every customer sharing a document with those or with the touched contracts' holders.
  const { rows: customerRows } = await db.raw(
    `WITH touched_ids AS (SELECT jsonb_array_elements_text(?::jsonb) AS id),
          naming AS (
            SELECT pc.id, pc.document FROM platform_customers pc
             WHERE pc.removed_at IS NULL AND pc.observation ~ '[0-9]'
               AND (pc.link_reason LIKE 'unknown\\_id\\_%' OR pc.link_reason LIKE 'several\\_ids\\_%')
               AND EXISTS (SELECT 1 FROM regexp_matches(pc.observation, '[0-9]+', 'g') AS m(run)
                            WHERE ltrim(m.run[1], '0') IN (SELECT id FROM touched_ids))
            UNION
            SELECT pc.id, pc.document FROM platform_customers pc
             WHERE pc.removed_at IS NULL AND split_part(pc.link_reason, ':', 1) LIKE ?
               AND (ltrim(btrim(pc.integration_code), '0') IN (SELECT id FROM touched_ids)
                    OR btrim(pc.integration_code) IN (SELECT id FROM touched_ids)
                    OR EXISTS (SELECT 1 FROM regexp_matches(coalesce(pc.observation, ''), '[0-9]+', 'g') AS m(run)
                                WHERE ltrim(m.run[1], '0') IN (SELECT id FROM touched_ids)))),
          documents AS (
            SELECT jsonb_array_elements_text(?::jsonb) AS document
            UNION SELECT document FROM naming WHERE document IS NOT NULL
            UNION SELECT CASE WHEN document ~ '^00[0-9]{9}$' THEN '000' || document ELSE substr(document, 4) END
                    FROM naming WHERE document ~ '^00[0-9]{9}$' OR document ~ '^00000[0-9]{9}$')
     SELECT pc.id, pc.integration_id, pc.external_id, pc.name, pc.document, pc.document_masked, pc.observation,
            pc.integration_code, pc.link_status, pc.link_reason, pc.service_contract_id
       FROM platform_customers pc
      WHERE pc.removed_at IS NULL
        AND coalesce(pc.link_reason, '') NOT LIKE 'customer\\_not\\_listed:%'
        AND (pc.document IN (SELECT document FROM documents)
             OR pc.id IN (SELECT id FROM naming WHERE document IS NULL))
      ORDER BY pc.integration_id, pc.external_id`,
    [JSON.stringify(serviceIds), `%${NO_DOCUMENT_SUFFIX.replaceAll('_', '\\_')}`, JSON.stringify([...documents])],
  );
  const customers = (customerRows as StoredCustomer[])
    .map((customer) => ({ customer, rawDocument: rawDocumentFromStored(customer.document, customer.document_masked) }))
    .filter((entry): entry is { customer: StoredCustomer; rawDocument: string | null } => entry.rawDocument !== undefined);
  if (customers.length === 0) return 0;

  const ERP = await erpLookups(db, customers);
  const decided = customers.map(({ customer, rawDocument }) => ({
    customer,
    decision: decideLink({
      observation: customer.observation,
      rawDocument,
      integrationCode: customer.integration_code,
      platformCarriesDocuments: !decidedWithoutDocument(customer.link_reason),
      contractById: ERP.byId,
      contractsByDocument: ERP.byDocument,
    }),
  }));

  // One contract, one platform customer, within each integration.
  const byIntegration = new Map<string, typeof decided>();
  for (const entry of decided) {
    const list = byIntegration.get(entry.customer.integration_id) ?? [];
    list.push(entry);
    byIntegration.set(entry.customer.integration_id, list);
  }
  const changed: Array<{ customer: StoredCustomer; status: string; reason: string; serviceId: string | null; document: string | null }> = [];
  for (const entries of byIntegration.values()) {
    const claims = entries.flatMap(({ customer, decision }) =>
      decision.serviceId !== null && (decision.status === 'linked' || decision.status === 'linked_by_document')
        ? [{ externalId: customer.external_id, name: customer.name, status: decision.status, serviceId: decision.serviceId }]
        : [],
    );
    const lost = new Map(settleClaims(claims).map((claim) => [claim.externalId, claim]));
    for (const { customer, decision } of entries) {
      const loss = lost.get(customer.external_id);
      const outcome = loss
        ? { status: loss.status as string, reason: `${loss.reasonCode}: ${loss.reason}`, serviceId: null }
        : { status: decision.status as string, reason: `${decision.reasonCode}: ${decision.reason}`, serviceId: decision.serviceId };
      const contractId = outcome.serviceId === null ? null : (ERP.contractIdOf(outcome.serviceId) ?? null);
      if (outcome.status === customer.link_status && outcome.reason === customer.link_reason && contractId === toNumber(customer.service_contract_id) && decision.document === customer.document) continue;
      changed.push({ customer, ...outcome, document: decision.document });
    }
  }
  if (changed.length === 0) return 0;

  await db.raw(
    `UPDATE platform_customers pc
        SET link_status = u.status, link_reason = u.reason, document = u.document,
            service_contract_id = (SELECT sc.id FROM service_contracts sc WHERE sc.service_id = u.service_id),
            updated_at = now()
       FROM jsonb_to_recordset(?::jsonb) AS u(id bigint, status text, reason text, service_id text, document text)
      WHERE pc.id = u.id`,
    [JSON.stringify(changed.map((c) => ({ id: c.customer.id, status: c.status, reason: c.reason, service_id: c.serviceId, document: c.document })))],
  );
  await replaceIssues(db, changed);
  return changed.length;
}

/**
 * The last succeeded run's report is the current list of customers to look at: a changed
 * customer's issue there is replaced by what the sync would raise now (none when linked).
 */
async function replaceIssues(db: Knex | Knex.Transaction, changed: Array<{ customer: StoredCustomer; status: string; reason: string }>): Promise<void> {
  const integrations = [...new Set(changed.map((c) => c.customer.integration_id))];
  for (const integrationId of integrations) {
    const run = (await db('sync_runs')
      .where({ integration_id: integrationId, status: 'succeeded' })
      .orderBy('finished_at', 'desc')
      .first('id')) as { id: string } | undefined;
    if (!run) continue;
    const mine = changed.filter((c) => c.customer.integration_id === integrationId);
    await db('sync_issues')
      .where({ run_id: run.id, kind: 'customers' })
      .whereIn('external_id', mine.map((c) => c.customer.external_id))
      .delete();
    const issues = mine
      .filter((c) => c.status !== 'linked')
      .map((c) => ({ run_id: run.id, integration_id: integrationId, kind: 'customers', external_id: c.customer.external_id, code: c.status, reason: c.reason.slice(0, 1000) }));
    if (issues.length > 0) await db('sync_issues').insert(issues);
  }
}

/**
 * Every contract the decisions may ask for, fetched up front: each number in the observations
 * (a superset of the ids `decideLink` reads) and each document with its other readings.
 */
async function erpLookups(db: Knex | Knex.Transaction, customers: Array<{ customer: StoredCustomer; rawDocument: string | null }>) {
  const ids = new Set<string>();
  const documents = new Set<string>();
  for (const { customer, rawDocument } of customers) {
    for (const run of customer.observation?.match(DIGIT_RUN) ?? []) {
      const id = run.replace(LEADING_ZEROS, '');
      if (id !== '' && id.length <= MAX_ID_DIGITS) ids.add(id);
    }
    const code = customer.integration_code?.trim() ?? '';
    if (code !== '' && code.length <= 40 && decidedWithoutDocument(customer.link_reason)) {
      ids.add(code);
      if (code.replace(LEADING_ZEROS, '') !== '') ids.add(code.replace(LEADING_ZEROS, ''));
    }
    const document = normaliseDocument(rawDocument);
    if (document.ok) documents.add(document.value);
    else for (const candidate of document.candidates ?? []) documents.add(candidate);
  }
  const { rows } = await db.raw(
    `SELECT sc.id, sc.service_id, sc.status, ec.document
       FROM service_contracts sc JOIN erp_customers ec ON ec.id = sc.erp_customer_id
      WHERE sc.service_id IN (SELECT jsonb_array_elements_text(?::jsonb))
         OR ec.document IN (SELECT jsonb_array_elements_text(?::jsonb))
      ORDER BY sc.service_id`,
    [JSON.stringify([...ids]), JSON.stringify([...documents])],
  );
  const byId = new Map<string, ContractById & { id: number }>();
  const byDocument = new Map<string, ContractOfDocument[]>();
  for (const row of rows as ContractRow[]) {
    const active = row.status === 'active';
    byId.set(row.service_id, { id: toNumber(row.id) as number, serviceId: row.service_id, customerDocument: row.document, active });
    if (!documents.has(row.document)) continue;
    const list = byDocument.get(row.document) ?? [];
    list.push({ serviceId: row.service_id, active });
    byDocument.set(row.document, list);
  }
  return {
    // Only ids read from the observations were fetched by id: nothing else may be asked.
    byId: (serviceId: string): ContractById | null => (ids.has(serviceId) ? (byId.get(serviceId) ?? null) : null),
    byDocument: (document: string): ContractOfDocument[] => byDocument.get(document) ?? [],
    contractIdOf: (serviceId: string): number | undefined => byId.get(serviceId)?.id,
  };
}

/**
 * A CPF that lost two zeros or more and a CNPJ that lost five read alike as a JSON number
 * (see `normaliseDocument`): a customer stored under one reading is touched by the other.
 */
function otherReadings(document: string): string[] {
  if (/^00\d{9}$/.test(document)) return [`000${document}`];
  if (/^00000\d{9}$/.test(document)) return [document.slice(3)];
  return [];
}

/** bigint columns come back from pg as text. */
function toNumber(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

/** A link decided on a platform whose customers carry no document (its reason code says so). */
function decidedWithoutDocument(linkReason: string | null): boolean {
  return (linkReason ?? '').split(':', 1)[0]!.endsWith(NO_DOCUMENT_SUFFIX);
}
