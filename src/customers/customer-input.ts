/**
 * One ERP service contract with its holder, as the ERP sends it (`POST /v1/customers`
 * item, or one CSV row): checked field by field and put in normal form. A bad field gives
 * an error naming the field, never the whole document.
 */
import { z } from 'zod';
import { maskDocument, normaliseDocument, type PersonType } from '../domain/documents.ts';
import { unstorableTextProblem } from '../domain/storable-text.ts';

export const CONTRACT_STATUSES = ['active', 'inactive', 'suspended', 'cancelled'] as const;
export type ContractStatus = (typeof CONTRACT_STATUSES)[number];

/** The ERP's own words for a status (compared without accents, case or punctuation). */
const STATUS_SYNONYMS: Readonly<Record<string, ContractStatus>> = {
  active: 'active', ativo: 'active', ativa: 'active', habilitado: 'active', habilitada: 'active',
  inactive: 'inactive', inativo: 'inactive', inativa: 'inactive', desativado: 'inactive', desativada: 'inactive',
  suspended: 'suspended', suspenso: 'suspended', suspensa: 'suspended', bloqueado: 'suspended', bloqueada: 'suspended',
  cancelled: 'cancelled', canceled: 'cancelled', cancelado: 'cancelled', cancelada: 'cancelled',
};

const PERSON_TYPE_SYNONYMS: Readonly<Record<string, PersonType>> = {
  person: 'person', f: 'person', pf: 'person', fisica: 'person', pessoafisica: 'person',
  company: 'company', j: 'company', pj: 'company', juridica: 'company', pessoajuridica: 'company',
};

const MAX_SERVICE_ID_LENGTH = 64;
const MAX_TEXT_LENGTH = 500;

export interface ContractInput {
  serviceId: string;
  document: string;
  name: string;
  personType: PersonType;
  status: ContractStatus;
  address: string | null;
  lat: number | null;
  lon: number | null;
  email: string | null;
  phone: string | null;
  city: string | null;
  state: string | null;
  zipCode: string | null;
}

export interface ItemError {
  /** Position of the item in the request (0-based), or the CSV line number. */
  index: number;
  serviceId: string | null;
  field: string;
  message: string;
}

export type ItemWarning = Omit<ItemError, 'index'>;

export type ParsedItem =
  | { ok: true; value: ContractInput; warnings: ItemWarning[] }
  | { ok: false; errors: Omit<ItemError, 'index'>[]; warnings: ItemWarning[] };

/**
 * What a key or a CSV column may feed: a contract field, a part of the address that ERPs
 * export in columns of their own (number, complement, district) and that is joined to it, or
 * `lat, lon` in one column.
 */
export type InputField = keyof ContractInput | 'addressNumber' | 'addressComplement' | 'district' | 'coordinates';

/**
 * Field names an item may use; CSV headers and JSON keys alike, compared by
 * `normaliseFieldName` (no accents, case, spaces or punctuation). Names from the exports of
 * the ERPs ISPs use (IXC, SGP, MK-Solutions, Voalle, HubSoft).
 */
export const FIELD_ALIASES: Readonly<Record<string, InputField>> = {
  serviceid: 'serviceId', idclienteservico: 'serviceId', contractid: 'serviceId', contrato: 'serviceId',
  idcontrato: 'serviceId', codigocontrato: 'serviceId', codigodocontrato: 'serviceId', numerocontrato: 'serviceId',
  numerodocontrato: 'serviceId', ncontrato: 'serviceId', codcontrato: 'serviceId', idservico: 'serviceId',
  codigoservico: 'serviceId', idclientecontrato: 'serviceId', contratoid: 'serviceId', codigoconexao: 'serviceId',
  codconexao: 'serviceId',
  document: 'document', cpfcnpj: 'document', cnpjcpf: 'document', documento: 'document', cpf: 'document', cnpj: 'document',
  cpfoucnpj: 'document', cnpjoucpf: 'document', numerodocumento: 'document', cpfcnpjcliente: 'document',
  name: 'name', nome: 'name', nomecliente: 'name', nomedocliente: 'name', razaosocial: 'name', razao: 'name',
  nomerazaosocial: 'name', razaosocialnome: 'name', nomerazao: 'name', nomecompleto: 'name', cliente: 'name',
  assinante: 'name', titular: 'name', nomeassinante: 'name', nomerazaosocialcliente: 'name',
  persontype: 'personType', tipo: 'personType', tipopessoa: 'personType', tipodepessoa: 'personType', pessoa: 'personType',
  status: 'status', situacao: 'status', situacaocontrato: 'status', situacaodocontrato: 'status', statuscontrato: 'status',
  statusdocontrato: 'status', statusservico: 'status', statusdoservico: 'status', servicostatus: 'status',
  address: 'address', endereco: 'address', logradouro: 'address', rua: 'address', enderecoinstalacao: 'address',
  enderecodeinstalacao: 'address', enderecocompleto: 'address',
  addressnumber: 'addressNumber', numero: 'addressNumber', n: 'addressNumber', numeroendereco: 'addressNumber',
  complemento: 'addressComplement', addresscomplement: 'addressComplement',
  district: 'district', bairro: 'district',
  coordinates: 'coordinates', coordenadas: 'coordinates', coordenada: 'coordinates', latlon: 'coordinates', latlong: 'coordinates',
  latlng: 'coordinates', latitudelongitude: 'coordinates',
  lat: 'lat', latitude: 'lat',
  lon: 'lon', lng: 'lon', long: 'lon', longitude: 'lon',
  email: 'email', emailprincipal: 'email', correioeletronico: 'email',
  phone: 'phone', telefone: 'phone', celular: 'phone', fone: 'phone', telefonecelular: 'phone', fonecelular: 'phone',
  telefoneprimario: 'phone', telefonesecundario: 'phone', whatsapp: 'phone', telefone1: 'phone', telefone2: 'phone',
  city: 'city', cidade: 'city', municipio: 'city',
  state: 'state', estado: 'state', uf: 'state',
  zipcode: 'zipCode', cep: 'zipCode', zip: 'zipCode', codigopostal: 'zipCode',
};

/** `Situação` → `situacao`, `CPF/CNPJ` → `cpfcnpj`, `E-mail` → `email`, `Nº` → `n`. */
export function normaliseFieldName(key: string): string {
  return key
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

export function canonicalField(key: string): InputField | null {
  return FIELD_ALIASES[normaliseFieldName(key)] ?? null;
}

/**
 * An item given as (key, value) pairs, as a CSV row is: unlike an object it can hold two
 * columns of the same name (two `Telefone`), which are then merged like any two aliases.
 */
export class FieldEntries {
  constructor(readonly entries: ReadonlyArray<readonly [string, unknown]>) {}
}

/**
 * Reads one item (a plain object, or FieldEntries). Unknown keys are ignored so an ERP export
 * with extra columns still loads. Two keys for one field (`cpf` and `cnpj`, `telefone` and
 * `celular`) are merged: the non-empty one is taken; two different documents, service ids or
 * statuses refuse the item, two different values of another field keep the first and give a
 * warning.
 */
export function parseContractItem(raw: unknown): ParsedItem {
  if (!(raw instanceof FieldEntries) && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) {
    return { ok: false, errors: [{ serviceId: null, field: '(item)', message: 'must be an object' }], warnings: [] };
  }
  const entries = raw instanceof FieldEntries ? raw.entries : Object.entries(raw as Record<string, unknown>);
  const candidates = new Map<InputField, { key: string; value: unknown }[]>();
  for (const [key, value] of entries) {
    const field = canonicalField(key);
    if (!field) continue;
    const list = candidates.get(field) ?? [];
    list.push({ key, value });
    candidates.set(field, list);
  }

  // Text PostgreSQL cannot store (NUL, unpaired surrogates) makes the item an error by itself.
  const unstorable = [...candidates].flatMap(([field, list]) =>
    list.flatMap(({ value }) => {
      const problem = typeof value === 'string' ? unstorableTextProblem(value) : null;
      return problem ? [{ field, message: problem }] : [];
    }),
  );
  if (unstorable.length > 0) {
    const id = unstorable.some((u) => u.field === 'serviceId') ? null : textOf(candidates.get('serviceId')?.[0]?.value);
    return { ok: false, errors: unstorable.map((u) => ({ serviceId: id, ...u })), warnings: [] };
  }

  const errors: Omit<ItemError, 'index'>[] = [];
  const warnings: ItemWarning[] = [];
  const cellProblems: { field: string; message: string }[] = [];
  const fields: Partial<Record<InputField, unknown>> = {};
  const pendingConflicts: { field: InputField; keys: string[]; values: unknown[] }[] = [];
  for (const [field, list] of candidates) {
    const filled = list.filter((candidate) => !isBlank(candidate.value));
    fields[field] = filled.length > 0 ? filled[0]!.value : list[0]!.value;
    if (filled.length > 1) pendingConflicts.push({ field, keys: filled.map((c) => c.key), values: filled.map((c) => c.value) });
  }
  for (const field of Object.keys(fields) as InputField[]) {
    const cleaned = cleanValue(fields[field]);
    if (cleaned instanceof CellProblem) {
      cellProblems.push({ field, message: cleaned.message });
      fields[field] = undefined;
    } else fields[field] = cleaned;
  }

  const serviceIdText = textOf(fields.serviceId);
  const serviceId = serviceIdText && serviceIdText.length <= MAX_SERVICE_ID_LENGTH && !/\s/.test(serviceIdText) ? serviceIdText : null;
  const fail = (field: string, message: string) => errors.push({ serviceId, field, message });
  for (const problem of cellProblems) fail(problem.field, problem.message);
  // A value refused as it came is not also "required" or "not a CPF": one error per field.
  const failUnlessRefused = (field: string, message: string) => {
    if (!cellProblems.some((problem) => problem.field === field)) fail(field, message);
  };

  for (const conflict of pendingConflicts) {
    const label = conflict.keys.map((key) => `"${key}"`).join(' and ');
    if (conflict.field === 'document') {
      const texts = conflict.values.map(comparableText);
      const distinct = new Set(texts.map((text) => {
        const normal = normaliseDocument(text);
        return normal.ok ? normal.value : text;
      }));
      if (distinct.size > 1) {
        fail('document', `${label} hold different documents (${conflict.values.map((v) => maskDocument(String(v))).join(' and ')}); keep one`);
      }
    } else if (sameValue(conflict.field, conflict.values)) {
      continue;
    } else if (conflict.field === 'serviceId' || conflict.field === 'status') {
      // Which contract, or whether it is cancelled: a guess here is a silent wrong answer.
      fail(conflict.field, `${label} hold different values (${conflict.values.map((v) => `"${String(v).trim()}"`).join(' and ')}); keep one`);
    } else {
      warnings.push({ serviceId, field: conflict.field, message: `${label} differ; kept the value of "${conflict.keys[0]}"` });
    }
  }

  if (!serviceIdText) failUnlessRefused('serviceId', 'is required (the ERP id_cliente_servico)');
  else if (!serviceId) fail('serviceId', `must be at most ${MAX_SERVICE_ID_LENGTH} characters without spaces`);
  else if (SPREADSHEET_NUMBER.test(serviceId)) {
    fail('serviceId', `looks like a number a spreadsheet reformatted (${serviceId}): format the column as text and export again`);
  }

  const name = textOf(fields.name);
  if (!name) failUnlessRefused('name', 'is required');
  else if (name.length > MAX_TEXT_LENGTH) fail('name', `is longer than ${MAX_TEXT_LENGTH} characters`);

  let document: string | null = null;
  let derivedType: PersonType | null = null;
  const rawDocument = fields.document === undefined || fields.document === null ? null : String(fields.document);
  const normal = normaliseDocument(rawDocument);
  if (normal.ok) {
    document = normal.value;
    derivedType = normal.personType;
  } else if (normal.reason === 'empty') {
    failUnlessRefused('document', 'is required (CPF or CNPJ)');
  } else {
    fail('document', `${DOCUMENT_PROBLEMS[normal.reason]} (${normal.masked})`);
  }

  let personType: PersonType | null = derivedType;
  const typeText = textOf(fields.personType);
  if (typeText) {
    const given = PERSON_TYPE_SYNONYMS[normaliseFieldName(typeText)];
    if (!given) fail('personType', 'must be person or company (F/J)');
    else if (derivedType && given !== derivedType) {
      fail('personType', `is ${given} but the document is a ${derivedType === 'person' ? 'CPF (person)' : 'CNPJ (company)'}`);
    } else personType = given;
  }

  let status: ContractStatus = 'active';
  const statusText = textOf(fields.status);
  if (statusText) {
    const known = STATUS_SYNONYMS[normaliseFieldName(statusText)];
    if (!known) fail('status', `must be one of ${CONTRACT_STATUSES.join(', ')}`);
    else status = known;
  }

  let lat = coordinateOf(fields.lat);
  let lon = coordinateOf(fields.lon);
  const pairText = textOf(fields.coordinates);
  if (pairText !== null && lat === null && lon === null) {
    const pair = COORDINATE_PAIR.exec(pairText) ?? COORDINATE_PAIR_DOT_DECIMALS.exec(pairText);
    if (pair) {
      lat = coordinateOf(pair[1]);
      lon = coordinateOf(pair[2]);
    } else fail('coordinates', `must be "lat, lon" or "lat lon" in degrees (found "${pairText}")`);
  }
  if (lat === 'bad' || (typeof lat === 'number' && (lat < -90 || lat > 90))) fail('lat', 'must be a latitude between -90 and 90');
  if (lon === 'bad' || (typeof lon === 'number' && (lon < -180 || lon > 180))) fail('lon', 'must be a longitude between -180 and 180');
  if ((lat === null) !== (lon === null)) failUnlessRefused(lat === null ? 'lat' : 'lon', 'lat and lon go together: give both or neither');
  if (lat === 0 && lon === 0) fail('lat', 'lat 0, lon 0 is not a service location (missing coordinates?)');

  const optional = {} as Record<'address' | 'email' | 'phone' | 'city' | 'state' | 'zipCode', string | null>;
  for (const key of ['address', 'email', 'phone', 'city', 'state', 'zipCode'] as const) {
    let value = textOf(fields[key]);
    if (key === 'address') value = joinAddress(value, textOf(fields.addressNumber), textOf(fields.addressComplement), textOf(fields.district));
    if (value !== null && value.length > MAX_TEXT_LENGTH) fail(key, `is longer than ${MAX_TEXT_LENGTH} characters`);
    optional[key] = value;
  }
  if (optional.email !== null) {
    const problem = emailProblem(optional.email);
    if (problem) fail('email', problem);
  }
  if (optional.zipCode !== null && /^\d{7}$/.test(optional.zipCode)) {
    // Every CEP has 8 digits: 7 is a spreadsheet that dropped the leading zero.
    optional.zipCode = `0${optional.zipCode}`;
  }

  if (errors.length > 0 || !serviceId || !name || !document || !personType || typeof lat === 'string' || typeof lon === 'string') {
    return { ok: false, errors, warnings };
  }
  return { ok: true, value: { serviceId, document, name, personType, status, lat, lon, ...optional }, warnings };
}

/** `-22,9056; -47,0608` or `-22.9056 -47.0608`: lat and lon apart by a `;` or spaces. */
const COORDINATE_PAIR = /^\s*([-+]?\d{1,3}(?:[.,]\d+)?)\s*(?:;\s*|\s+)([-+]?\d{1,3}(?:[.,]\d+)?)\s*$/;
/** `-22.9056,-47.0608`: a comma between them only when the decimals are dots. */
const COORDINATE_PAIR_DOT_DECIMALS = /^\s*([-+]?\d{1,3}(?:\.\d+)?)\s*,\s*([-+]?\d{1,3}(?:\.\d+)?)\s*$/;
/** `1.234`, `12,345`, `1234.0`: a number as a spreadsheet formats it, not an id as the ERP wrote it. */
const SPREADSHEET_NUMBER = /^(\d{1,3}(\.\d{3})+|\d{1,3}(,\d{3})+|\d+[.,]0+)$/;
/** `1,23457E+13`: Excel's display of a long number; the digits after the sixth are gone. */
const SCIENTIFIC_NOTATION = /^[-+]?\d+([.,]\d+)?e[-+]?\d+$/i;
/** `="00123"`: the formula people (and some ERPs) write so Excel keeps leading zeros. */
const EXCEL_TEXT_FORMULA = /^=\s*"(.*)"$/s;
/** Letters decoded twice (UTF-8 read as Windows-1252): `Ã£` for `ã`, `Ã§` for `ç`. */
const DOUBLE_DECODED = /Ã[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u2122]/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const EDGE_SPACES = /^[\s\u200b]+|[\s\u200b]+$/g;

/**
 * A value as a person meant it: spaces (also non-breaking) trimmed, Excel's `="…"` unwrapped.
 * Returns a CellProblem for a value that cannot be stored as it came: a lost letter (U+FFFD),
 * text decoded twice, control characters, or a number Excel cut to scientific notation.
 */
class CellProblem {
  constructor(readonly message: string) {}
}

function cleanValue(value: unknown): unknown {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && Math.abs(value) > Number.MAX_SAFE_INTEGER) {
      return new CellProblem('is a number too large to be exact; send it as text');
    }
    return value;
  }
  if (typeof value !== 'string') return value;
  let text = value.replace(EDGE_SPACES, '');
  const formula = EXCEL_TEXT_FORMULA.exec(text);
  if (formula) text = formula[1]!.replace(EDGE_SPACES, '');
  text = text.replace(/[\u00a0\u202f]/g, ' ');
  if (text.includes('\ufffd')) {
    return new CellProblem('contains "\ufffd", a letter lost before the file reached mapsync (saved in the wrong encoding); correct it in the ERP and export again');
  }
  if (CONTROL_CHARACTERS.test(text) || LONE_SURROGATE.test(text)) return new CellProblem('contains a control character or a broken character');
  if (DOUBLE_DECODED.test(text)) {
    return new CellProblem(`looks decoded twice ("${DOUBLE_DECODED.exec(text)![0]}" where a letter such as "ã" was meant): export the file again as UTF-8`);
  }
  if (SCIENTIFIC_NOTATION.test(text)) {
    return new CellProblem(`is in scientific notation (${text}): Excel turned it into a number and dropped digits; format the column as text and export again`);
  }
  return text;
}

function isBlank(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== 'string') return false;
  const text = value.replace(EDGE_SPACES, '');
  return text === '' || /^=\s*"\s*"$/.test(text);
}

/** A value trimmed and out of Excel's `="…"`, to compare two columns. */
function comparableText(value: unknown): string {
  const text = String(value).replace(EDGE_SPACES, '');
  return EXCEL_TEXT_FORMULA.exec(text)?.[1]?.replace(EDGE_SPACES, '') ?? text;
}

function sameValue(field: InputField, values: unknown[]): boolean {
  const key = (value: unknown) => {
    const text = comparableText(value);
    if (field === 'serviceId') return text;
    if (field === 'phone') return text.replace(/\D/g, '').replace(/^55(?=\d{10,11}$)/, '');
    const normal = normaliseFieldName(text);
    return field === 'status' ? (STATUS_SYNONYMS[normal] ?? normal) : normal;
  };
  return new Set(values.map(key)).size === 1;
}

/** `Rua A`, `10`, `apto 2`, `Centro` → `Rua A, 10, apto 2 - Centro`. */
function joinAddress(street: string | null, number: string | null, complement: string | null, district: string | null): string | null {
  if (street === null) return null;
  const parts = [street, number, complement].filter((part): part is string => part !== null);
  return district === null ? parts.join(', ') : `${parts.join(', ')} - ${district}`;
}

const emailSchema = z.email();

/** Why a text is not one e-mail address (zod's check), or null when it is one. */
function emailProblem(email: string): string | null {
  if (/[;,\s]/.test(email) && email.split(/[;,\s]+/).filter(Boolean).length > 1) {
    return 'must be one e-mail address (this holds several; keep one)';
  }
  return emailSchema.safeParse(email).success ? null : `is not an e-mail address ("${email}")`;
}

const DOCUMENT_PROBLEMS: Readonly<Record<string, string>> = {
  bad_format: 'is not a CPF or CNPJ',
  bad_check_digits: 'has wrong check digits',
  repeated_digits: 'has all digits equal',
};

function textOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const text = String(value).trim();
  return text === '' ? null : text;
}

/** A number, a numeric text (comma decimal accepted), null when absent, 'bad' otherwise. */
function coordinateOf(value: unknown): number | null | 'bad' {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : 'bad';
  if (typeof value !== 'string') return 'bad';
  const text = value.trim().replace(',', '.');
  if (text === '') return null;
  if (!/^[-+]?\d{1,3}(\.\d+)?$/.test(text)) return 'bad';
  return Number(text);
}
