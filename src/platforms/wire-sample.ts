/**
 * Samples of platform bodies and records that could not be read, for run issues and errors:
 * every platform adapter reports an unreadable shape with the endpoint and one of these,
 * never with the raw text (it may hold documents, names and addresses).
 */
import { maskDocument } from '../domain/documents.ts';
import { isRecord } from './record-validation.ts';

/** What an unexpected body is, in a few words, for the message of a shape error. */
export function describeBody(body: unknown): string {
  if (body === null || body === undefined) return 'empty body';
  if (typeof body === 'string') return `text ${JSON.stringify(maskText(body).slice(0, 80))}`;
  if (Array.isArray(body)) return 'an array';
  if (isRecord(body)) return `an object with keys ${Object.keys(body).slice(0, 8).join(', ') || '(none)'}`;
  return typeof body;
}

/** Keys whose values identify a person: never shown whole in an issue or a log. */
const DOCUMENT_KEY = /cpf|cnpj|documento/i;
const PERSONAL_KEY =
  /nome|name|razao|fantasia|telefone|celular|fone|phone|email|endereco|address|logradouro|bairro|cep|complemento|observacao|observation|comentario|contato|pppoe|serial|mac_address|login|password/i;
const SAMPLE_MAX_LENGTH = 400;

/**
 * A short JSON sample of an unreadable body or record, for a run issue: documents masked
 * (`***.***.*89-09`), names, phones, addresses and free text cut to their first letter,
 * other text to 24 characters, at most 3 items of a list and 4 levels deep.
 */
export function maskedSample(value: unknown): string {
  const text = JSON.stringify(maskValue(value, null, 0)) ?? String(value);
  return text.length > SAMPLE_MAX_LENGTH ? `${text.slice(0, SAMPLE_MAX_LENGTH)}…` : text;
}

function maskValue(value: unknown, key: string | null, depth: number): unknown {
  if (value === null || value === undefined || typeof value === 'boolean') return value ?? null;
  if (key !== null && DOCUMENT_KEY.test(key) && (typeof value === 'string' || typeof value === 'number')) return maskDocument(String(value));
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (key !== null && PERSONAL_KEY.test(key)) return value.trim() === '' ? value : `${value.trim().slice(0, 1)}***`;
    return maskText(value).slice(0, 24);
  }
  if (depth >= 4) return '…';
  if (Array.isArray(value)) {
    const shown = value.slice(0, 3).map((item) => maskValue(item, key, depth + 1));
    return value.length > 3 ? [...shown, `…(+${value.length - 3})`] : shown;
  }
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(v, k, depth + 1)]));
  return typeof value;
}

/** Runs of 6 or more digits in free text may be documents or phones: masked. */
function maskText(text: string): string {
  return text.replace(/\d[\d.\-/ ]{4,}\d/g, (run) => maskDocument(run));
}
