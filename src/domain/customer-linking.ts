/**
 * Decides which ERP service contract a platform customer belongs to (DESIGN.md, Sync rules →
 * Customer linking). Pure: the ERP is reached only through the two look-up callbacks, and the
 * document look-up is called only when the observation does not settle the case.
 *
 * The guiding rule is never to bind the wrong person: an id read from the observation binds
 * only when the platform's document is valid and equals the contract holder's. A missing or
 * invalid document therefore turns an existing id into `document_mismatch` (reason code
 * `id_document_missing` / `id_document_invalid`) instead of a link nobody can vouch for.
 *
 * An unlabelled number guessed out of a longer note (`extractServiceId` strength `weak`) is
 * only a hint: when it names somebody else's contract and the document is valid, it is set
 * aside and the document decides (`weak_id_ignored_…`), the reason naming the number.
 *
 * One contract links to at most one platform customer: `settleClaims` decides between the
 * customers of one integration that claim the same contract.
 *
 * A platform whose customers carry no document at all (OZmap v2: an FTTH client has no document
 * field) links by ids alone, with `decideLinkWithoutDocument`: the id in the observation and the
 * integration code when it holds a service id. Its reason codes all end in `_no_document`.
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
  /**
   * The platform's integration code (GeoGrid `codigoIntegracao`, OZmap `code`). Read only on a
   * platform whose customers carry no document (`platformCarriesDocuments: false`).
   */
  integrationCode?: string | null;
  /** False on a platform whose customers have no document field (OZmap): see `decideLinkWithoutDocument`. Default true. */
  platformCarriesDocuments?: boolean;
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
export type ObservationFallback = 'no_observation' | 'no_id' | 'unknown_id' | 'several_ids' | 'weak_id_ignored';
export type DocumentOutcome =
  | 'single_active_contract'
  | 'several_active_contracts'
  | 'only_inactive_contracts'
  | 'document_not_found'
  | 'document_missing'
  | 'document_invalid';
/**
 * Decided on a platform whose customers carry no document (`decideLinkWithoutDocument`):
 * - `id_no_document`, `id_inactive_contract_no_document`: the observation names the contract, the code is silent;
 * - `id_and_code_agree_no_document`: both name it;
 * - `id_code_differ_no_document`: they name contracts of two ERP customers (document_mismatch);
 * - `id_code_same_holder_no_document`: they name two contracts of one ERP customer (ambiguous);
 * - `<fallback>_code_no_document`: the observation could not settle it, the code names the contract;
 * - `several_ids_no_document`: the observation names several existing contracts (ambiguous);
 * - `<fallback>_no_document`: nothing names a contract (unmatched).
 */
export type NoDocumentReasonCode =
  | 'id_no_document'
  | 'id_inactive_contract_no_document'
  | 'id_and_code_agree_no_document'
  | 'id_code_differ_no_document'
  | 'id_code_same_holder_no_document'
  | 'several_ids_no_document'
  | `${ObservationFallback}_code_no_document`
  | `${ObservationFallback}_no_document`;
/** The suffix every `NoDocumentReasonCode` ends with: the decision was made without a document. */
export const NO_DOCUMENT_SUFFIX = '_no_document';
/** e.g. `id_document_agrees`, `unknown_id_single_active_contract`, `no_id_document_not_found`. */
export type LinkReasonCode = IdReasonCode | `${ObservationFallback}_${DocumentOutcome}` | ClaimReasonCode | NoDocumentReasonCode;
/**
 * A contract claimed by more than one platform customer (see `settleClaims`):
 * - `contract_claimed_by_id`: this customer matched by document only; another names it in its observation;
 * - `contract_claimed_by_document`: several customers matched it by document only;
 * - `contract_claimed_by_several_ids`: several customers name it in their observation.
 */
export type ClaimReasonCode = 'contract_claimed_by_id' | 'contract_claimed_by_document' | 'contract_claimed_by_several_ids';
export const CLAIM_REASON_CODES: readonly ClaimReasonCode[] = ['contract_claimed_by_id', 'contract_claimed_by_document', 'contract_claimed_by_several_ids'];

export interface LinkDecision {
  status: LinkStatus;
  /** Set only when the customer is bound: `linked` or `linked_by_document`. */
  serviceId: string | null;
  reasonCode: LinkReasonCode;
  /** English, for an admin; mentions the document only masked. */
  reason: string;
  maskedDocument: string | null;
  /**
   * The platform document in normal form as it was decided on; null when missing or invalid.
   * A JSON number that reads as a CPF and as a CNPJ holds the reading the ERP knows, else its
   * CPF reading (the same digits: see `normaliseDocument`).
   */
  document: string | null;
  /** Contracts an admin may want to look at when nothing was bound (ambiguous, mismatch). */
  candidateServiceIds: string[];
}

export function decideLink(input: LinkInput): LinkDecision {
  if (input.platformCarriesDocuments === false) return decideLinkWithoutDocument(input);
  const document = readingTheErpKnows(normaliseDocument(input.rawDocument), input);
  const documentValue = document.ok ? document.value : (document.candidates?.[0] ?? null);
  return { ...decide(input, document), document: documentValue };
}

function decide(input: LinkInput, document: DocumentResult): Omit<LinkDecision, 'document'> {
  const masked = maskedForReport(document);
  const extracted = extractServiceId(input.observation);

  if (extracted.id !== null) {
    const contract = input.contractById(extracted.id);
    if (contract && extracted.strength === 'weak' && document.ok && !sameDocument(contract.customerDocument, document.value)) {
      return decideByDocument(
        input,
        document,
        masked,
        'weak_id_ignored',
        `The observation's unlabelled number ${extracted.id} is service ${extracted.id} of a customer with another document, so it was ignored as a note. `,
      );
    }
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

/** Longest integration code read as a service id (the observation's labelled-id limit). */
const MAX_CODE_ID_DIGITS = 10;

/**
 * The contract an integration code names: the code as written, or its digits without leading
 * zeros (`000123` is service 123). Null when the code is empty, not a plausible service id,
 * or names no ERP contract.
 */
function contractOfCode(code: string | null | undefined, contractById: LinkInput['contractById']): ContractById | null {
  const text = code?.trim() ?? '';
  if (text === '' || text.length > 40) return null;
  const exact = contractById(text);
  if (exact) return exact;
  if (!/^\d+$/.test(text)) return null;
  const digits = text.replace(/^0+/, '');
  if (digits === '' || digits === text || digits.length > MAX_CODE_ID_DIGITS) return null;
  return contractById(digits);
}

/**
 * Links a customer of a platform whose customers carry no document (OZmap v2: an FTTH client
 * has no document field; platforms/ozmap-v2.md) by ids alone, in the same five outcomes:
 * - the observation names a contract (a labelled id, or the whole field) → `linked`, and so
 *   when the integration code names the same one;
 * - the observation and the code name contracts of two ERP customers → `document_mismatch`;
 *   two contracts of one ERP customer → `ambiguous`;
 * - the observation cannot settle it (no id, an unknown id, a weak guess) and the code names
 *   a contract → `linked`: the code holds the exact service id, which is what mapsync's own push
 *   writes there;
 * - the observation names several existing contracts that the code does not settle → `ambiguous`;
 * - nothing names a contract → `unmatched`.
 * `linked_by_document` never comes out: there is no document. An unlabelled number guessed out
 * of a longer note never links on its own, since no document can confirm it. Every reason says
 * that no document was available; every reason code ends in `_no_document`.
 */
export function decideLinkWithoutDocument(input: Pick<LinkInput, 'observation' | 'integrationCode' | 'contractById'>): LinkDecision {
  return { ...decideWithoutDocument(input), document: null };
}

const NO_DOCUMENT = "The platform's customers carry no document";

function decideWithoutDocument(input: Pick<LinkInput, 'observation' | 'integrationCode' | 'contractById'>): Decided {
  const extracted = extractServiceId(input.observation);
  const code = contractOfCode(input.integrationCode, input.contractById);
  const codeText = input.integrationCode?.trim() ?? '';

  if (extracted.id !== null && extracted.strength !== 'weak') {
    const contract = input.contractById(extracted.id);
    if (contract) return byIdWithoutDocument(contract, code);
    return byCodeWithoutDocument(code, codeText, 'unknown_id', `The observation names service ${extracted.id}, which is not in the ERP. `);
  }
  if (extracted.id !== null) {
    if (code && code.serviceId === extracted.id) return byIdWithoutDocument(code, code);
    return byCodeWithoutDocument(code, codeText, 'weak_id_ignored', `The observation's unlabelled number ${extracted.id} is only a guess, and there is no document to confirm it. `);
  }
  if (extracted.reason === 'several_ids') {
    const candidates = extracted.candidates ?? [];
    const existing = candidates.map((id) => input.contractById(id)).filter((contract): contract is ContractById => contract !== null);
    const listed = candidates.join(', ');
    if (code && existing.some((contract) => contract.serviceId === code.serviceId)) {
      return decision('linked', code.serviceId, 'id_and_code_agree_no_document', `The observation names several services (${listed}) and the integration code names service ${code.serviceId}, one of them. ${NO_DOCUMENT} to check it against.`, null);
    }
    if (existing.length > 0) {
      const ids = [...new Set([...existing.map((contract) => contract.serviceId), ...(code ? [code.serviceId] : [])])];
      const codeSays = code ? ` and the integration code names service ${code.serviceId}` : '';
      return decision('ambiguous', null, 'several_ids_no_document', `The observation names several services (${listed})${codeSays}. ${NO_DOCUMENT} to tell which is this customer's: keep only the right service id in the observation.`, null, ids);
    }
    return byCodeWithoutDocument(code, codeText, 'several_ids', `The observation names several services (${listed}), none of them in the ERP. `);
  }
  const fallback: ObservationFallback = extracted.reason === 'empty' ? 'no_observation' : 'no_id';
  return byCodeWithoutDocument(code, codeText, fallback, fallback === 'no_observation' ? 'The observation is empty. ' : 'The observation holds no service id. ');
}

function byIdWithoutDocument(contract: ContractById, code: ContractById | null): Decided {
  const service = `service ${contract.serviceId}`;
  if (code && code.serviceId !== contract.serviceId) {
    const candidates = [contract.serviceId, code.serviceId];
    if (sameDocument(contract.customerDocument, code.customerDocument)) {
      return decision('ambiguous', null, 'id_code_same_holder_no_document', `The observation names ${service} but the integration code names service ${code.serviceId}, both contracts of one ERP customer. ${NO_DOCUMENT} to tell which: make the observation and the code agree.`, null, candidates);
    }
    return decision('document_mismatch', null, 'id_code_differ_no_document', `The observation names ${service} but the integration code names service ${code.serviceId}, of another ERP customer. ${NO_DOCUMENT} to tell who this is: make the observation and the code agree.`, null, candidates);
  }
  if (code) {
    return decision('linked', contract.serviceId, 'id_and_code_agree_no_document', `The observation and the integration code both name ${service}. ${NO_DOCUMENT} to check it against.`, null);
  }
  if (!contract.active) {
    return decision('linked', contract.serviceId, 'id_inactive_contract_no_document', `The observation names ${service}; ${NO_DOCUMENT.charAt(0).toLowerCase()}${NO_DOCUMENT.slice(1)} to check it against. Note that the contract is not active.`, null);
  }
  return decision('linked', contract.serviceId, 'id_no_document', `The observation names ${service}; ${NO_DOCUMENT.charAt(0).toLowerCase()}${NO_DOCUMENT.slice(1)} to check it against.`, null);
}

function byCodeWithoutDocument(code: ContractById | null, codeText: string, fallback: ObservationFallback, context: string): Decided {
  if (code) {
    const inactive = code.active ? '' : ' Note that the contract is not active.';
    return decision('linked', code.serviceId, `${fallback}_code_no_document`, `${context}The integration code names service ${code.serviceId}. ${NO_DOCUMENT} to check it against.${inactive}`, null);
  }
  const codeSays = codeText === '' ? 'the integration code is empty' : 'the integration code names no service in the ERP';
  return decision('unmatched', null, `${fallback}_no_document`, `${context}${NO_DOCUMENT}, and ${codeSays}: put the service id in the observation.`, null);
}

/**
 * A JSON number that reads as both a CPF and a CNPJ is the one reading an ERP customer has;
 * with none or both known it stays undecided (`cpf_or_cnpj`), so nothing is bound by a guess.
 */
function readingTheErpKnows(document: DocumentResult, input: LinkInput): DocumentResult {
  if (document.ok || !document.candidates) return document;
  const known = document.candidates.filter((candidate) => input.contractsByDocument(candidate).length > 0);
  if (known.length !== 1) return document;
  const value = known[0] as string;
  return value.length === 11 ? { ok: true, kind: 'cpf', value, personType: 'person' } : { ok: true, kind: 'cnpj', value, personType: 'company' };
}

type Decided = Omit<LinkDecision, 'document'>;

function decideByObservationId(contract: ContractById, document: DocumentResult, masked: string | null): Decided {
  const service = `service ${contract.serviceId}`;
  if (!document.ok) {
    const missing = document.reason === 'empty';
    return decision(
      'document_mismatch',
      null,
      missing ? 'id_document_missing' : 'id_document_invalid',
      missing
        ? `The observation names ${service}, but the platform customer has no document to confirm it.`
        : `The observation names ${service}, but the platform document ${masked} ${whyUnusable(document.reason)}, so it cannot be confirmed.`,
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

function decideByDocument(input: LinkInput, document: DocumentResult, masked: string | null, fallback: ObservationFallback, context: string): Decided {
  if (!document.ok) {
    if (document.reason === 'empty') {
      return decision('unmatched', null, `${fallback}_document_missing`, `${context}The platform customer has no document either.`, masked);
    }
    return decision('unmatched', null, `${fallback}_document_invalid`, `${context}The platform document ${masked} ${whyUnusable(document.reason)}.`, masked);
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

function whyUnusable(problem: Exclude<DocumentResult, { ok: true }>['reason']): string {
  if (problem === 'cpf_or_cnpj') return `is ${describeProblem(problem)}, and the ERP knows neither reading or both`;
  return `is not a valid CPF/CNPJ (${describeProblem(problem)})`;
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

function decision(status: LinkStatus, serviceId: string | null, reasonCode: LinkReasonCode, reason: string, maskedDocument: string | null, candidateServiceIds: string[] = []): Decided {
  return { status, serviceId, reasonCode, reason, maskedDocument, candidateServiceIds };
}

/** A platform customer bound to a contract by `decideLink`, before claims are settled. */
export interface Claim {
  /** The platform customer's id. */
  externalId: string;
  name: string | null;
  status: 'linked' | 'linked_by_document';
  serviceId: string;
}

/** A claim that lost: the customer becomes `ambiguous` and is bound to nothing. */
export interface LostClaim {
  externalId: string;
  status: 'ambiguous';
  serviceId: null;
  reasonCode: ClaimReasonCode;
  /** Names the other claimants by platform id and name, never by document. */
  reason: string;
  candidateServiceIds: string[];
}

const MAX_NAMED_CLAIMANTS = 3;
/** A document (or a phone) inside a name: 9 digits or more with the usual separators, or a CNPJ's shape. */
const DOCUMENT_LIKE = /\d(?:[\d.\-\/\s]*\d){8,}|\b[0-9A-Z]{2}\.?[0-9A-Z]{3}\.?[0-9A-Z]{3}\/?[0-9A-Z]{4}-?\d{2}\b/gi;
const MAX_NAME_LENGTH = 60;

/**
 * One contract, one platform customer (DESIGN.md, Customer linking, rule 6), over the claims
 * of one integration in any order:
 * - an id in the observation (`linked`) beats a document match (`linked_by_document`);
 * - two document-only claims on one contract are both `ambiguous`;
 * - two id claims on one contract are both `ambiguous` too, and so is every document claim
 *   beside them.
 * Returns the claims that lost; a claim not returned stands.
 */
export function settleClaims(claims: Claim[]): LostClaim[] {
  const byContract = new Map<string, Claim[]>();
  for (const claim of claims) {
    const list = byContract.get(claim.serviceId);
    if (list) list.push(claim);
    else byContract.set(claim.serviceId, [claim]);
  }
  const lost: LostClaim[] = [];
  for (const [serviceId, contenders] of byContract) {
    if (contenders.length < 2) continue;
    const byId = contenders.filter((claim) => claim.status === 'linked');
    const others = (claim: Claim, among: Claim[]) => describeClaimants(among.filter((other) => other !== claim));
    for (const claim of contenders) {
      const lose = (reasonCode: ClaimReasonCode, reason: string) =>
        lost.push({ externalId: claim.externalId, status: 'ambiguous', serviceId: null, reasonCode, reason, candidateServiceIds: [serviceId] });
      if (claim.status === 'linked') {
        if (byId.length < 2) continue;
        lose(
          'contract_claimed_by_several_ids',
          `The observation names service ${serviceId}, and so does the observation of ${others(claim, byId)}, with the same document; one contract links to one platform customer: keep the id only on the right one.`,
        );
      } else if (byId.length > 0) {
        lose(
          'contract_claimed_by_id',
          `The document matches service ${serviceId}, but ${describeClaimants(byId)} names that service in its observation, and an explicit id wins; put the right service id in this customer's observation.`,
        );
      } else {
        lose(
          'contract_claimed_by_document',
          `The document matches service ${serviceId}, and so does that of ${others(claim, contenders)}; one contract links to one platform customer: put the service id in the observation of the right one.`,
        );
      }
    }
  }
  return lost;
}

function describeClaimants(claims: Claim[]): string {
  const named = claims.slice(0, MAX_NAMED_CLAIMANTS).map((claim) => {
    // People type documents into the name field too: those are masked like any document.
    const name = claim.name?.replace(/\s+/g, ' ').trim().replace(DOCUMENT_LIKE, (run) => maskDocument(run));
    if (!name) return `platform customer ${claim.externalId}`;
    return `platform customer ${claim.externalId} (${name.length > MAX_NAME_LENGTH ? `${name.slice(0, MAX_NAME_LENGTH - 1)}…` : name})`;
  });
  const more = claims.length - named.length;
  return more > 0 ? `${named.join(', ')} and ${more} more` : named.join(' and ');
}
