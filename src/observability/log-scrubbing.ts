/**
 * Nothing secret or personal reaches a log (LGPD): every log call passes through here.
 * - Documents (CPF/CNPJ) anywhere in a logged text are masked (`***.***.*89-09`).
 * - Errors are serialised without PostgreSQL's `where`, `detail`, `internalQuery` and
 *   `hint`, which quote the row being written (`JSON data, line 1: [{"document":"…"`).
 * - Query values whose key looks like a credential (`?token=…`) are replaced in URLs.
 * Header and key based redaction of tokens is pino's `redact` (logger.ts).
 */
import pino from 'pino';
import { maskDocument, normaliseDocument } from '../domain/documents.ts';

/**
 * Digit runs shaped like a CPF (11) or a numeric CNPJ (14), punctuated or not, are masked
 * whatever their check digits: a mistyped document is still personal data (a date-time
 * stamp `YYYYMMDDhhmmss` excepted). Runs of 9, 10,
 * 12 or 13 digits (leading zeros dropped by a spreadsheet) and letter-bearing runs shaped
 * like an alphanumeric CNPJ are masked when they are valid documents, so ids and words
 * that only look alike stay readable.
 *
 * A digit run that is part of an identifier is not a document: one touching a letter, a
 * digit or `_`, or a `.` that joins it to more of a name (`20261201130100_port_counts.ts`,
 * `batch_52998224725`, `52998224725.json`); nor is a group of a UUID. A full stop ending a
 * sentence joins a document to nothing: it is masked.
 */
const DOCUMENT_LIKE =
  /(?<![\p{L}\p{N}_]|[\p{L}\p{N}_]\.)(?:\d{3}[.\s]?\d{3}[.\s]?\d{3}[-\s]?\d{2}|[0-9A-Za-z]{2}\.?[0-9A-Za-z]{3}\.?[0-9A-Za-z]{3}\/?[0-9A-Za-z]{4}-?\d{2}|\d{9,13})(?![\p{L}\p{N}_]|\.[\p{L}\p{N}_])/gu;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const ALWAYS_MASKED = /^(?:\d{11}|\d{14})$/;

/**
 * `YYYYMMDDhhmmss` (migration names, file stamps) is 14 digits like a CNPJ; a plausible
 * date-time (1970–2099) is left alone unless it is also a valid CNPJ.
 */
function isTimestamp(digits: string): boolean {
  const match = /^(19[7-9]\d|20\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])([01]\d|2[0-3])([0-5]\d)([0-5]\d)$/.exec(digits);
  return match !== null && !normaliseDocument(digits).ok;
}

export function maskDocumentsInText(text: string): string {
  if (text.length < 9) return text;
  const uuids = [...text.matchAll(UUID)].map((m) => [m.index, m.index + m[0].length] as const);
  return text.replace(DOCUMENT_LIKE, (match: string, offset: number) => {
    if (uuids.some(([start, end]) => offset >= start && offset < end)) return match;
    const compact = match.replace(/[.\s/-]/g, '');
    if (compact === match && isTimestamp(compact)) return match;
    if (ALWAYS_MASKED.test(compact) || normaliseDocument(match).ok) return maskDocument(match);
    return match;
  });
}

/** Query keys whose values are credentials, compared without case, `-` or `_`. */
const CREDENTIAL_KEY = /^(?:token|accesstoken|apitoken|apikey|key|password|passwd|pwd|secret|clientsecret|authorization|auth|bearer|signature|sig|session|sessionid|cookie)$/;

export function isCredentialKey(key: string): boolean {
  return CREDENTIAL_KEY.test(key.toLowerCase().replace(/[-_]/g, ''));
}

/** A URL (or path + query) with the values of credential-like query keys replaced, and documents masked. */
export function redactUrl(url: string): string {
  const queryAt = url.indexOf('?');
  if (queryAt < 0) return maskDocumentsInText(url);
  const query = url
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawKey = eq < 0 ? pair : pair.slice(0, eq);
      let key = rawKey;
      try {
        key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      } catch {
        // undecodable: judged as sent
      }
      return isCredentialKey(key) && eq >= 0 ? `${rawKey}=[redacted]` : pair;
    })
    .join('&');
  return maskDocumentsInText(`${url.slice(0, queryAt)}?${query}`);
}

/** PostgreSQL error fields (and query parameters) that quote the data being written, never logged. */
const DATA_QUOTING_FIELDS = new Set(['where', 'detail', 'internalQuery', 'hint', 'parameters', 'bindings']);
/** An HTTP client error's request and response carry headers (tokens) and bodies (documents). */
const DROPPED_ERROR_FIELDS = new Set([...DATA_QUOTING_FIELDS, 'config', 'request', 'response']);

/** pino's error serialiser, minus the fields that quote data, with documents masked. */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return scrubLogValue(error);
  const serialized = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(serialized)) {
    if (DROPPED_ERROR_FIELDS.has(key) || value === undefined) continue;
    out[key] = scrubLogValue(value);
  }
  return out;
}

/**
 * A copy of a log argument that is safe to write: texts with documents masked, errors
 * serialised by serializeError, plain objects and arrays walked (to a few levels). Other
 * objects (a request, a socket) are left to pino's serialisers.
 */
export function scrubLogValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskDocumentsInText(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return depth > 6 ? { message: maskDocumentsInText(value.message) } : serializeError(value);
  if (depth > 6) return value;
  if (Array.isArray(value)) return value.map((item) => scrubLogValue(item, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (depth > 0 && DATA_QUOTING_FIELDS.has(key)) continue;
    out[key] = key === 'url' && typeof item === 'string' ? redactUrl(item) : scrubLogValue(item, depth + 1);
  }
  return out;
}
