/**
 * Decides which ERP service contract a platform customer belongs to (DESIGN.md, Sync rules →
 * Customer linking). Pure: the ERP is reached only through the two look-up callbacks, and the
 * document look-up is called only when the observation does not settle the case.
 *
 * The guiding rule is never to bind the wrong person: an id read from the observation binds
 * only when the platform's document is valid and equals the contract holder's. A missing or
 * invalid document therefore turns an existing id into `document_mismatch` (reason code
 * `id_document_missing` / `id_document_invalid`) instead of a link nobody can vouch for.
 */
import { formatDocument, maskDocument, normaliseDocument, type DocumentResult } from './documents.ts';
import { extractServiceId } from './observation.ts';

export { personTypeOf, type PersonType } from './documents.ts';

export type LinkStatus = 'linked' | 'linked_by_document' | 'document_mismatch' | 'ambiguous' | 'unmatched';

export interface ContractById {
  serviceId: string;
  /** Normal form (see `normaliseDocument`). */
  customerDocument: string;
  active: boolean;
}

export interface ContractOfDocument {
  serviceId: string;
  active: boolean;
}

export interface LinkInput {
  observation: string | null;
  rawDocument: string | null;
  contractById: (serviceId: string) => ContractById | null;
  /** Every contract of every ERP customer whose document (normal form) is `document`. */
  contractsByDocument: (document: string) => ContractOfDocument[];
}

/** Decided from the observation id alone. */
export type IdReasonCode =
  | 'id_document_agrees'
  | 'id_inactive_contract_document_agrees'
  | 'one_of_several_ids_document_agrees'
  | 'id_document_differs'
  | 'id_document_missing'
  | 'id_document_invalid';
/** Why the observation could not settle it, so the document decided. */
export type ObservationFallback = 'no_observation' | 'no_id' | 'unknown_id' | 'several_ids';
export type DocumentOutcome =
  | 'single_active_contract'
  | 'several_active_contracts'
  | 'only_inactive_contracts'
  | 'document_not_found'
  | 'document_missing'
  | 'document_invalid';
/** e.g. `id_document_agrees`, `unknown_id_single_active_contract`, `no_id_document_not_found`. */
export type LinkReasonCode = IdReasonCode | `${ObservationFallback}_${DocumentOutcome}`;

export interface LinkDecision {
  status: LinkStatus;
  /** Set only when the customer is bound: `linked` or `linked_by_document`. */
  serviceId: string | null;
  reasonCode: LinkReasonCode;
  /** English, for an admin; mentions the document only masked. */
  reason: string;
  maskedDocument: string | null;
  /** Contracts an admin may want to look at when nothing was bound (ambiguous, mismatch). */
  candidateServiceIds: string[];
}

export function decideLink(input: LinkInput): LinkDecision {
  const document = normaliseDocument(input.rawDocument);
  const masked = maskedForReport(document);
  const extracted = extractServiceId(input.observation);

  if (extracted.id !== null) {
    const contract = input.contractById(extracted.id);
    if (contract) return decideByObservationId(contract, document, masked);
    return decideByDocument(input, document, masked, 'unknown_id', `The observation names service ${extracted.id}, which is not in the ERP. `);
  }

  if (extracted.reason === 'several_ids') {
    const candidates = extracted.candidates ?? [];
    const listed = candidates.join(', ');
    if (document.ok) {
      // Of several ids, the one whose contract holder has this very document is the customer's.
      const agreeing = candidates
        .map((id) => input.contractById(id))
        .filter((contract): contract is ContractById => contract !== null && sameDocument(contract.customerDocument, document.value));
      if (agreeing.length === 1) {
        const contract = agreeing[0] as ContractById;
        return decision('linked', contract.serviceId, 'one_of_several_ids_document_agrees', `The observation names several services (${listed}); only service ${contract.serviceId} belongs to the customer with document ${masked}.`, masked);
      }
    }
    return decideByDocument(input, document, masked, 'several_ids', `The observation names several services (${listed}). `);
  }

  const fallback: ObservationFallback = extracted.reason === 'empty' ? 'no_observation' : 'no_id';
  const context = fallback === 'no_observation' ? 'The observation is empty. ' : 'The observation holds no service id. ';
  return decideByDocument(input, document, masked, fallback, context);
}

function decideByObservationId(contract: ContractById, document: DocumentResult, masked: string | null): LinkDecision {
  const service = `service ${contract.serviceId}`;
  if (!document.ok) {
    const missing = document.reason === 'empty';
    return decision(
      'document_mismatch',
      null,
      missing ? 'id_document_missing' : 'id_document_invalid',
      missing
        ? `The observation names ${service}, but the platform customer has no document to confirm it.`
        : `The observation names ${service}, but the platform document ${masked} is not a valid CPF/CNPJ (${describeProblem(document.reason)}), so it cannot be confirmed.`,
      masked,
      [contract.serviceId],
    );
  }
  if (!sameDocument(contract.customerDocument, document.value)) {
    return decision('document_mismatch', null, 'id_document_differs', `The observation names ${service}, but its ERP customer has a different document than the platform's ${masked}.`, masked, [contract.serviceId]);
  }
  if (!contract.active) {
    return decision('linked', contract.serviceId, 'id_inactive_contract_document_agrees', `The observation names ${service} and the document ${masked} agrees; note that the contract is not active.`, masked);
  }
  return decision('linked', contract.serviceId, 'id_document_agrees', `The observation names ${service} and the document ${masked} agrees.`, masked);
}

function decideByDocument(input: LinkInput, document: DocumentResult, masked: string | null, fallback: ObservationFallback, context: string): LinkDecision {
  if (!document.ok) {
    if (document.reason === 'empty') {
      return decision('unmatched', null, `${fallback}_document_missing`, `${context}The platform customer has no document either.`, masked);
    }
    return decision('unmatched', null, `${fallback}_document_invalid`, `${context}The platform document ${masked} is not a valid CPF/CNPJ (${describeProblem(document.reason)}).`, masked);
  }
  const contracts = input.contractsByDocument(document.value);
  if (contracts.length === 0) {
    return decision('unmatched', null, `${fallback}_document_not_found`, `${context}No ERP customer has the document ${masked}.`, masked);
  }
  const active = contracts.filter((contract) => contract.active);
  if (active.length === 1) {
    const serviceId = (active[0] as ContractOfDocument).serviceId;
    return decision('linked_by_document', serviceId, `${fallback}_single_active_contract`, `${context}The document ${masked} has exactly one active contract: service ${serviceId}.`, masked);
  }
  if (active.length > 1) {
    const ids = active.map((contract) => contract.serviceId);
    return decision('ambiguous', null, `${fallback}_several_active_contracts`, `${context}The document ${masked} has ${ids.length} active contracts (${ids.join(', ')}); put the right service id in the observation.`, masked, ids);
  }
  // A customer with only cancelled contracts is not bound by guesswork.
  const ids = contracts.map((contract) => contract.serviceId);
  return decision('unmatched', null, `${fallback}_only_inactive_contracts`, `${context}The document ${masked} has no active contract (inactive: ${ids.join(', ')}).`, masked, ids);
}

/** Both sides should be normal already; the second look only runs when they differ. */
function sameDocument(erpDocument: string, platformDocument: string): boolean {
  if (erpDocument === platformDocument) return true;
  const erp = normaliseDocument(erpDocument);
  return erp.ok && erp.value === platformDocument;
}

function maskedForReport(document: DocumentResult): string | null {
  if (document.ok) return maskDocument(formatDocument(document.value));
  return document.reason === 'empty' ? null : document.masked;
}

function describeProblem(problem: Exclude<DocumentResult, { ok: true }>['reason']): string {
  switch (problem) {
    case 'empty':
      return 'empty';
    case 'bad_format':
      return 'not 11 digits for a CPF or 14 characters for a CNPJ';
    case 'bad_check_digits':
      return 'wrong check digits';
    case 'repeated_digits':
      return 'a placeholder: one character repeated';
    case 'cpf_or_cnpj':
      return 'a JSON number that is a valid CPF and a valid CNPJ once its lost zeros are restored';
  }
}

function decision(status: LinkStatus, serviceId: string | null, reasonCode: LinkReasonCode, reason: string, maskedDocument: string | null, candidateServiceIds: string[] = []): LinkDecision {
  return { status, serviceId, reasonCode, reason, maskedDocument, candidateServiceIds };
}
