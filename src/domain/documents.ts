/**
 * Brazilian customer documents (CPF, numeric CNPJ, alphanumeric CNPJ) as typed on a
 * mapping platform: normalised, validated, masked for logs and formatted for display.
 *
 * Check digits come from @brazilian-utils/brazilian-utils: its `isValidCnpj(…, { version: 2 })`
 * implements the alphanumeric CNPJ of IN RFB 2.229/2024 (value = ASCII − 48, weights
 * 5…2/9…2 and 6…2/9…2, r < 2 → 0 else 11 − r) and accepts `12.ABC.345/01DE-35`.
 * Documents are always text: leading zeros and letters matter.
 */
import { formatCnpj, formatCpf, isValidCnpj, isValidCpf } from '@brazilian-utils/brazilian-utils';

export type DocumentKind = 'cpf' | 'cnpj';
export type PersonType = 'person' | 'company';
export type DocumentProblem = 'empty' | 'bad_format' | 'bad_check_digits' | 'repeated_digits' | 'cpf_or_cnpj';

export type DocumentResult =
  | { ok: true; kind: DocumentKind; value: string; personType: PersonType }
  /**
   * `candidates` only with `cpf_or_cnpj`: a JSON number that is a valid CPF padded to 11 digits
   * and a valid CNPJ padded to 14 ([cpf, cnpj]); only the ERP can tell which one it is.
   */
  | { ok: false; reason: DocumentProblem; masked: string; candidates?: [string, string] };

const CPF_LENGTH = 11;
const CNPJ_LENGTH = 14;
/**
 * Spreadsheets drop leading zeros, so a CPF may arrive with 9 or 10 digits and a CNPJ with
 * 12 or 13. Padding more than two zeros would let too much garbage validate by chance.
 */
const MIN_CPF_DIGITS = 9;
const MIN_CNPJ_DIGITS = 12;

/**
 * How a document the platform sent as a JSON number travels as text (staging holds text):
 * `json-number:41837207`. Nobody types that prefix into a document field.
 */
const JSON_NUMBER_PREFIX = 'json-number:';
/** Largest CNPJ: 14 digits, well inside the integers a JSON number (double) holds exactly. */
const MAX_DOCUMENT_NUMBER = 99_999_999_999_999;

/**
 * A leading "CPF:" / "CNPJ nº" label some people type into the document field. It must be
 * followed by a separator so an alphanumeric CNPJ that starts with those letters is kept.
 */
const LEADING_LABEL = /^\s*(?:cpf|cnpj)(?:\s*\/\s*(?:cpf|cnpj))?(?=[\s:.\-=º°])\s*(?:n[º°o.]?\s*)?[:.\-=]?\s*/i;
/** What people put between groups: dots, dashes (also typographic ones), slashes, spaces. */
const SEPARATORS = /[\s.\-\/\\_,\u2010-\u2015\u00a0\u200b-\u200d\ufeff]+/g;
const ALL_DIGITS = /^\d+$/;
/** 12 base characters, then 2 numeric check digits. */
const ALPHANUMERIC_CNPJ = /^[0-9A-Z]{12}\d{2}$/;

/**
 * The normal form of a document typed by a person: CPF `12345678909` (11 digits), numeric CNPJ
 * `12345678000195` (14 digits), alphanumeric CNPJ `12ABC34501DE35` (IN RFB 2.229/2024).
 * Never throws; a document that cannot be normalised comes back with its problem and masked.
 *
 * Two rules for lost leading zeros, on purpose:
 * - **Text** (what a person typed, or a spreadsheet exported): at most two lost zeros are
 *   restored (9–10 digits → CPF, 12–13 → CNPJ). Text keeps its zeros unless a spreadsheet ate
 *   them, and a spreadsheet column of CPFs was typed as 11 digits; an 8-digit text is far more
 *   often a typo or a truncation, and padding it would let one random string in 100 pass the
 *   check digits, linking a stranger.
 * - **A JSON number** (`documentTextOfJsonNumber`): a number cannot hold a leading zero, so
 *   every lost zero was lost by the type, none by the person, and all of them are restored.
 *   Which length is decided by the check digits: valid only as a CPF (padded to 11) or only as
 *   a CNPJ (padded to 14) decides it. A CPF that lost two zeros or more is always also a valid
 *   CNPJ (the weights of the two rules differ only on the first two digits), so such a number
 *   is `cpf_or_cnpj` with both `candidates`, for the ERP to tell (see `decideLink`).
 *
 * A placeholder is invalid even when its check digits compute: a base (9 CPF digits, 12 CNPJ
 * characters) of one repeated character, e.g. `11.111.111/1111-80` or `AAAAAAAAAAAA` with its
 * digits. Receita Federal issues no such number. A repeated 8-digit CNPJ root with a real
 * branch is NOT refused: `00.000.000/0001-91` is Banco do Brasil.
 */
export function normaliseDocument(raw: string | null | undefined): DocumentResult {
  if (raw == null || raw.trim() === '') return { ok: false, reason: 'empty', masked: '' };
  if (raw.startsWith(JSON_NUMBER_PREFIX)) return normaliseJsonNumber(raw);
  const fail = (reason: DocumentProblem): DocumentResult => ({ ok: false, reason, masked: maskDocument(raw) });

  const compact = raw.replace(LEADING_LABEL, '').replace(SEPARATORS, '').toUpperCase();
  if (compact === '') return fail('bad_format');

  if (ALL_DIGITS.test(compact)) {
    // Decided on length alone: 11 digits is always a CPF, even though a CNPJ with three
    // dropped zeros would also have 11.
    if (compact.length >= MIN_CPF_DIGITS && compact.length <= CPF_LENGTH) {
      if (isRepeated(compact)) return fail('repeated_digits');
      const value = compact.padStart(CPF_LENGTH, '0');
      if (isPlaceholder(value)) return fail('repeated_digits');
      return isValidCpf(value) ? cpf(value) : fail('bad_check_digits');
    }
    if (compact.length >= MIN_CNPJ_DIGITS && compact.length <= CNPJ_LENGTH) {
      if (isRepeated(compact)) return fail('repeated_digits');
      const value = compact.padStart(CNPJ_LENGTH, '0');
      if (isPlaceholder(value)) return fail('repeated_digits');
      return isValidCnpj(value) ? cnpj(value) : fail('bad_check_digits');
    }
    return fail('bad_format');
  }

  // Letters make it an alphanumeric CNPJ. Those are stored as text by everyone, so no zeros
  // are ever lost and no padding is tried.
  if (!ALPHANUMERIC_CNPJ.test(compact)) return fail('bad_format');
  if (isPlaceholder(compact)) return fail('repeated_digits');
  return isValidCnpj(compact, { version: 2 }) ? cnpj(compact) : fail('bad_check_digits');
}

/**
 * The text a platform document sent as a JSON number travels as, for `normaliseDocument`:
 * `json-number:41837207`. Anything but a whole number from 0 to 14 digits keeps its JSON
 * text, and is then refused as `bad_format`.
 */
export function documentTextOfJsonNumber(value: number): string {
  if (Number.isSafeInteger(value) && value >= 0 && value <= MAX_DOCUMENT_NUMBER) return `${JSON_NUMBER_PREFIX}${value.toFixed(0)}`;
  return `${JSON_NUMBER_PREFIX}${JSON.stringify(value)}`;
}

/** `maskDocument` of a JSON-number document ends so; what is stored of it is its normal form. */
const JSON_NUMBER_MASK_SUFFIX = ' (JSON number)';

/**
 * The raw document to decide a stored platform customer's link again, from what is stored of
 * it: `document` (normal form, or a CPF reading of an undecided JSON number) and
 * `documentMasked` (`maskDocument` of the raw one). Null: there was none. Undefined: it was
 * invalid, and its raw value is not stored.
 */
export function rawDocumentFromStored(document: string | null, documentMasked: string | null): string | null | undefined {
  if (document === null) return documentMasked === null ? null : undefined;
  if (documentMasked?.endsWith(JSON_NUMBER_MASK_SUFFIX) && ALL_DIGITS.test(document)) return documentTextOfJsonNumber(Number(document));
  return document;
}

function normaliseJsonNumber(raw: string): DocumentResult {
  const digits = raw.slice(JSON_NUMBER_PREFIX.length);
  const fail = (reason: DocumentProblem, candidates?: [string, string]): DocumentResult => ({
    ok: false,
    reason,
    masked: maskDocument(raw),
    ...(candidates ? { candidates } : {}),
  });
  if (!ALL_DIGITS.test(digits) || digits.length > CNPJ_LENGTH) return fail('bad_format');
  const asCpf = digits.length <= CPF_LENGTH ? digits.padStart(CPF_LENGTH, '0') : null;
  const asCnpj = digits.padStart(CNPJ_LENGTH, '0');
  const cpfValid = asCpf !== null && !isPlaceholder(asCpf) && isValidCpf(asCpf);
  const cnpjValid = !isPlaceholder(asCnpj) && isValidCnpj(asCnpj);
  if (cpfValid && cnpjValid) return fail('cpf_or_cnpj', [asCpf, asCnpj]);
  if (cpfValid) return cpf(asCpf);
  if (cnpjValid) return cnpj(asCnpj);
  return fail((asCpf !== null && isPlaceholder(asCpf)) || isPlaceholder(asCnpj) ? 'repeated_digits' : 'bad_check_digits');
}

function cpf(value: string): DocumentResult {
  return { ok: true, kind: 'cpf', value, personType: 'person' };
}

function cnpj(value: string): DocumentResult {
  return { ok: true, kind: 'cnpj', value, personType: 'company' };
}

/** A full-length document whose base (all but the two check digits) is one repeated character. */
function isPlaceholder(value: string): boolean {
  return isRepeated(value.slice(0, value.length - 2));
}

function isRepeated(value: string): boolean {
  const first = value.charCodeAt(0);
  for (let i = 1; i < value.length; i++) if (value.charCodeAt(i) !== first) return false;
  return true;
}

/** Person type of a document already in normal form (11 characters → CPF, 14 → CNPJ). */
export function personTypeOf(normalDocument: string): PersonType {
  if (normalDocument.length === CPF_LENGTH && ALL_DIGITS.test(normalDocument)) return 'person';
  if (normalDocument.length === CNPJ_LENGTH && ALPHANUMERIC_CNPJ.test(normalDocument)) return 'company';
  throw new RangeError(`Not a normalised CPF/CNPJ: ${maskDocument(normalDocument)}`);
}

const MASK_CHAR = '*';
const KEPT_SEPARATORS = new Set(['.', '-', '/', ' ']);
const MAX_MASKED_LENGTH = 24;
const WHITESPACE_RUN = /\s+/g;

/**
 * A document made safe for logs and reports: every letter or digit is hidden except the
 * last few (4 when there are at least 11, 2 from 6, none below), and the usual separators
 * stay where they were so an admin can recognise the shape: `***.***.*89-09`.
 * Works on anything, including garbage; long values are cut to their tail.
 */
export function maskDocument(raw: string | null | undefined): string {
  if (raw == null) return '';
  if (raw.startsWith(JSON_NUMBER_PREFIX)) return `${maskDocument(raw.slice(JSON_NUMBER_PREFIX.length))}${JSON_NUMBER_MASK_SUFFIX}`;
  const text = raw.trim().replace(WHITESPACE_RUN, ' ');
  let hideable = 0;
  for (const ch of text) if (!KEPT_SEPARATORS.has(ch)) hideable++;
  const visible = hideable >= 11 ? 4 : hideable >= 6 ? 2 : 0;
  let seen = 0;
  let out = '';
  for (const ch of text) {
    if (KEPT_SEPARATORS.has(ch)) {
      out += ch;
      continue;
    }
    seen++;
    out += seen > hideable - visible ? ch : MASK_CHAR;
  }
  return out.length > MAX_MASKED_LENGTH ? `…${out.slice(out.length - (MAX_MASKED_LENGTH - 1))}` : out;
}

/**
 * The usual punctuation of a normal-form document: `123.456.789-09`, `12.345.678/0001-95`,
 * `12.ABC.345/01DE-35`. Anything else is returned as it came.
 */
export function formatDocument(normal: string): string {
  if (normal.length === CPF_LENGTH && ALL_DIGITS.test(normal)) return formatCpf(normal);
  if (normal.length === CNPJ_LENGTH && ALPHANUMERIC_CNPJ.test(normal)) return formatCnpj(normal, { version: 2 });
  return normal;
}
