import { maskDocument, normaliseDocument } from '../domain/documents.ts';
import { CLAIM_REASON_CODES, decideLink, settleClaims, type Claim, type ContractById, type ContractOfDocument, type LinkDecision } from '../domain/customer-linking.ts';
import type { RunConnection } from './run-connection.ts';
import { LINK_INPUT_HASH_SQL } from './staging.ts';
import type { RunIssuesWriter } from './run-issues.writer.ts';
import type { RunProgressTracker } from './run-progress.ts';

/** Customers decided per round trip: the contract look-ups cost about the same for 2000 or 10000. */
const BATCH = 10_000;
const DIGIT_RUN = /\d+/g;
const LEADING_ZEROS = /^0+/;
/** Longest id extractServiceId accepts. */
const MAX_ID_DIGITS = 10;

interface StagedCustomer {
  external_id: string;
  listed: boolean;
  raw_document: string | null;
  observation: string | null;
  integration_code: string | null;
}

/**
 * Links every kept platform customer to an ERP service contract with `decideLink`, a batch
 * at a time: the contracts a batch can name (by the ids read from the observations and by
 * the documents) are fetched in two queries, then decided in memory and written back to
 * staging. Every outcome other than `linked` is a run issue (documents masked).
 */
export interface LinkRunInput {
  integrationId: string;
  runId: string;
  full: boolean;
  tables: { customers: string; links: string };
  issues: RunIssuesWriter;
  progress: RunProgressTracker;
  /**
   * False on a platform whose customers carry no document (OZmap): they link by the observation
   * id and the integration code (`decideLinkWithoutDocument`). Default true.
   */
  platformCarriesDocuments?: boolean;
}

/**
 * Count and order-independent hash of every service contract with its holder's document:
 * whatever the ERP changes, it changes.
 */
export async function erpFingerprint(db: RunConnection): Promise<string> {
  const [row] = await db.query<{ fingerprint: string }>(
    `SELECT count(*)::text || ':' || coalesce(sum(hashtext(sc.service_id || '|' || sc.status || '|' || ec.document)::bigint), 0)::text AS fingerprint
       FROM service_contracts sc JOIN erp_customers ec ON ec.id = sc.erp_customer_id`,
  );
  return row?.fingerprint ?? '0:0';
}

/**
 * A run that is not --full keeps the link of every customer whose platform side (document as
 * typed, observation) is unchanged, as long as the ERP is unchanged too: those links are
 * copied set-wise from the stored rows. The rest is decided. Then claims are settled over all
 * of them (one contract, one platform customer), and every outcome but `linked` is an issue.
 * A link that lost a claim is never kept as is: the other claimant may be gone.
 */
/** Returns the ERP fingerprint the previous links were decided against (null: none yet). */
export async function linkCustomers(input: LinkRunInput, fingerprint: string): Promise<string | null> {
  const { tables, issues, progress } = input;
  const db = input.issues.connection;
  const [state] = await db.query<{ erp_fingerprint: string }>('SELECT erp_fingerprint FROM sync_link_state WHERE integration_id = $1', [input.integrationId]);
  if (!input.full && state?.erp_fingerprint === fingerprint) {
    const reused = await db.execute(
      `INSERT INTO ${tables.links} (external_id, document, document_masked, link_status, link_reason, service_id, reused)
       SELECT s.external_id, pc.document, pc.document_masked, pc.link_status, pc.link_reason, sc.service_id, true
         FROM ${tables.customers} s
         JOIN platform_customers pc ON pc.integration_id = $1 AND pc.external_id = s.external_id
         LEFT JOIN service_contracts sc ON sc.id = pc.service_contract_id
        WHERE s.keep AND pc.removed_at IS NULL AND pc.link_input_hash = ${LINK_INPUT_HASH_SQL}
          -- Where documents are missing the integration code is an input of the link too.
          AND ($3::boolean OR pc.integration_code IS NOT DISTINCT FROM s.integration_code)
          AND split_part(coalesce(pc.link_reason, ''), ':', 1) <> ALL($2::text[])
          -- Spelt out rather than as (a IS NULL) = (b NOT IN …): the planner can size this one.
          AND ((pc.link_status IN ('linked', 'linked_by_document') AND pc.service_contract_id IS NOT NULL)
               OR (pc.link_status NOT IN ('linked', 'linked_by_document') AND pc.service_contract_id IS NULL))`,
      [input.integrationId, CLAIM_REASON_CODES, input.platformCarriesDocuments !== false],
    );
    progress.fetched('linked', reused);
  }
  await decideTheRest(input);
  await settleContractClaims(db, tables);
  await issues.flush();
  return state?.erp_fingerprint ?? null;
}

/**
 * Writes the run's customer issues (every staged link but `linked`) from its links table.
 * Called inside the merge transaction: the issues are committed with the links they describe,
 * so a run that fails or is cancelled before its merge commits lists none (the integration's
 * customers keep the links, and issues, of its last succeeded run).
 */
export async function recordLinkIssues(db: RunConnection, input: { runId: string; integrationId: string; tables: { links: string } }): Promise<void> {
  await db.execute(
    `INSERT INTO sync_issues (run_id, integration_id, kind, external_id, code, reason)
     SELECT $1, $2, 'customers', l.external_id, l.link_status, left(coalesce(l.link_reason, l.link_status), 1000)
       FROM ${input.tables.links} l WHERE l.link_status <> 'linked'`,
    [input.runId, input.integrationId],
  );
}

/** Decides, a batch at a time, every kept customer whose link was not kept from the last run. */
async function decideTheRest(input: LinkRunInput): Promise<void> {
  const { tables, progress } = input;
  const db = input.issues.connection;
  let after = '';
  for (;;) {
    const batch = await db.query<StagedCustomer>(
      `SELECT s.external_id, s.listed, s.raw_document, s.observation, s.integration_code FROM ${tables.customers} s
        WHERE s.keep AND s.external_id > $1
          AND NOT EXISTS (SELECT 1 FROM ${tables.links} l WHERE l.external_id = s.external_id)
        ORDER BY s.external_id LIMIT ${BATCH}`,
      [after],
    );
    if (batch.length === 0) return;
    after = (batch[batch.length - 1] as StagedCustomer).external_id;

    // Every contract decideLink may ask for: any number in the observation (a superset of
    // the ids it will read) and the normal form of each document.
    const withDocuments = input.platformCarriesDocuments !== false;
    const serviceIds = new Set<string>();
    const documents = new Set<string>();
    const normalised = batch.map((customer) => normaliseDocument(withDocuments ? customer.raw_document : null));
    batch.forEach((customer, i) => {
      for (const run of customer.observation?.match(DIGIT_RUN) ?? []) {
        const id = run.replace(LEADING_ZEROS, '');
        if (id !== '' && id.length <= MAX_ID_DIGITS) serviceIds.add(id);
      }
      const code = withDocuments ? '' : (customer.integration_code?.trim() ?? '');
      if (code !== '' && code.length <= 40) {
        serviceIds.add(code);
        const digits = code.replace(LEADING_ZEROS, '');
        if (digits !== '') serviceIds.add(digits);
      }
      const document = normalised[i];
      if (document?.ok) documents.add(document.value);
      for (const candidate of (document?.ok === false && document.candidates) || []) documents.add(candidate);
    });
    const byId = await contractsById(db, [...serviceIds]);
    const byDocument = await contractsByDocument(db, [...documents]);
    const missedIds = new Set<string>();
    const missedDocuments = new Set<string>();
    const decide = (customer: StagedCustomer) =>
      decideLink({
        observation: customer.observation,
        rawDocument: customer.raw_document,
        integrationCode: customer.integration_code,
        platformCarriesDocuments: withDocuments,
        contractById: (id) => {
          if (!serviceIds.has(id)) missedIds.add(id);
          return byId.get(id) ?? null;
        },
        contractsByDocument: (document) => {
          if (!documents.has(document)) missedDocuments.add(document);
          return byDocument.get(document) ?? [];
        },
      });
    let decisions = batch.map((customer) => (customer.listed ? decide(customer) : null));
    if (missedIds.size > 0 || missedDocuments.size > 0) {
      // An id the quick scan did not see (e.g. written as HTML entities): fetch it and decide again.
      for (const [id, contract] of await contractsById(db, [...missedIds])) byId.set(id, contract);
      for (const [document, list] of await contractsByDocument(db, [...missedDocuments])) byDocument.set(document, list);
      for (const id of missedIds) serviceIds.add(id);
      for (const document of missedDocuments) documents.add(document);
      decisions = batch.map((customer) => (customer.listed ? decide(customer) : null));
    }

    const rows = { id: [] as string[], document: [] as (string | null)[], masked: [] as (string | null)[], status: [] as string[], reason: [] as string[], serviceId: [] as (string | null)[] };
    for (const [i, customer] of batch.entries()) {
      if (!customer.listed) {
        // Seen on a port only: the platform's customer list had no readable record of it.
        const reason = 'the customer is on a synced port, but the platform lists no readable record of it, so its document and observation are unknown';
        rows.id.push(customer.external_id);
        rows.document.push(null);
        rows.masked.push(null);
        rows.status.push('unmatched');
        rows.reason.push(`customer_not_listed: ${reason}`);
        rows.serviceId.push(null);
        continue;
      }
      const decision = decisions[i] as LinkDecision;
      rows.id.push(customer.external_id);
      rows.document.push(decision.document);
      rows.masked.push(customer.raw_document == null || customer.raw_document.trim() === '' ? null : maskDocument(customer.raw_document));
      rows.status.push(decision.status);
      rows.reason.push(`${decision.reasonCode}: ${decision.reason}`);
      rows.serviceId.push(decision.serviceId);
    }
    progress.fetched('linked', batch.length);
    await db.query(
      `INSERT INTO ${tables.links} (external_id, document, document_masked, link_status, link_reason, service_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
      [rows.id, rows.document, rows.masked, rows.status, rows.reason, rows.serviceId],
    );
    if (batch.length < BATCH) return;
  }
}

/**
 * One contract, one platform customer: the customers of this run that claim a contract
 * another one claims too are settled by `settleClaims`; the losers are written back as
 * `ambiguous`, bound to nothing.
 */
async function settleContractClaims(db: RunConnection, tables: LinkRunInput['tables']): Promise<void> {
  const contested = await db.query<{ external_id: string; name: string | null; link_status: Claim['status']; service_id: string }>(
    `SELECT l.external_id, s.name, l.link_status, l.service_id
       FROM ${tables.links} l JOIN ${tables.customers} s ON s.external_id = l.external_id
      WHERE l.service_id IN (SELECT service_id FROM ${tables.links} WHERE service_id IS NOT NULL GROUP BY service_id HAVING count(*) > 1)
      ORDER BY l.external_id`,
  );
  if (contested.length === 0) return;
  const lost = settleClaims(contested.map((row) => ({ externalId: row.external_id, name: row.name, status: row.link_status, serviceId: row.service_id })));
  await db.query(
    `UPDATE ${tables.links} l SET link_status = u.status, link_reason = u.reason, service_id = NULL, reused = false
       FROM unnest($1::text[], $2::text[], $3::text[]) AS u(external_id, status, reason)
      WHERE l.external_id = u.external_id`,
    [lost.map((claim) => claim.externalId), lost.map((claim) => claim.status), lost.map((claim) => `${claim.reasonCode}: ${claim.reason}`)],
  );
}

async function contractsById(db: RunConnection, serviceIds: string[]): Promise<Map<string, ContractById>> {
  const map = new Map<string, ContractById>();
  if (serviceIds.length === 0) return map;
  const rows = await db.query<{ service_id: string; status: string; document: string }>(
    `SELECT sc.service_id, sc.status, ec.document
       FROM service_contracts sc JOIN erp_customers ec ON ec.id = sc.erp_customer_id
      WHERE sc.service_id = ANY($1::text[])`,
    [serviceIds],
  );
  for (const row of rows) map.set(row.service_id, { serviceId: row.service_id, customerDocument: row.document, active: row.status === 'active' });
  return map;
}

async function contractsByDocument(db: RunConnection, documents: string[]): Promise<Map<string, ContractOfDocument[]>> {
  const map = new Map<string, ContractOfDocument[]>();
  if (documents.length === 0) return map;
  const rows = await db.query<{ document: string; service_id: string; status: string }>(
    `SELECT ec.document, sc.service_id, sc.status
       FROM erp_customers ec JOIN service_contracts sc ON sc.erp_customer_id = ec.id
      WHERE ec.document = ANY($1::text[])
      ORDER BY sc.service_id`,
    [documents],
  );
  for (const row of rows) {
    const list = map.get(row.document) ?? [];
    list.push({ serviceId: row.service_id, active: row.status === 'active' });
    map.set(row.document, list);
  }
  return map;
}
