/**
 * One ERP service contract with its holder, as the ERP sends it (`POST /v1/customers`
 * item, or one CSV row): checked field by field and put in normal form. A bad field gives
 * an error naming the field, never the whole document.
 */
import { normaliseDocument, type PersonType } from '../domain/documents.ts';
import { unstorableTextProblem } from '../domain/storable-text.ts';

export const CONTRACT_STATUSES = ['active', 'inactive', 'suspended', 'cancelled'] as const;
export type ContractStatus = (typeof CONTRACT_STATUSES)[number];

/** The ERP's own words for a status, accepted as synonyms. */
const STATUS_SYNONYMS: Readonly<Record<string, ContractStatus>> = {
  active: 'active', ativo: 'active', ativa: 'active', habilitado: 'active',
  inactive: 'inactive', inativo: 'inactive', inativa: 'inactive',
  suspended: 'suspended', suspenso: 'suspended', suspensa: 'suspended', bloqueado: 'suspended',
  cancelled: 'cancelled', canceled: 'cancelled', cancelado: 'cancelled', cancelada: 'cancelled',
};

const PERSON_TYPE_SYNONYMS: Readonly<Record<string, PersonType>> = {
  person: 'person', f: 'person', pf: 'person', fisica: 'person', física: 'person',
  company: 'company', j: 'company', pj: 'company', juridica: 'company', jurídica: 'company',
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

export type ParsedItem = { ok: true; value: ContractInput } | { ok: false; errors: Omit<ItemError, 'index'>[] };

/** Field names an item may use; CSV headers and JSON keys alike (case and `_` insensitive). */
export const FIELD_ALIASES: Readonly<Record<string, keyof ContractInput>> = {
  serviceid: 'serviceId', idclienteservico: 'serviceId', contractid: 'serviceId',
  document: 'document', cpfcnpj: 'document', documento: 'document', cpf: 'document', cnpj: 'document',
  name: 'name', nome: 'name',
  persontype: 'personType', tipo: 'personType', tipopessoa: 'personType',
  status: 'status', situacao: 'status',
  address: 'address', endereco: 'address',
  lat: 'lat', latitude: 'lat',
  lon: 'lon', lng: 'lon', longitude: 'lon',
  email: 'email',
  phone: 'phone', telefone: 'phone', celular: 'phone',
  city: 'city', cidade: 'city',
  state: 'state', estado: 'state', uf: 'state',
  zipcode: 'zipCode', cep: 'zipCode', zip: 'zipCode',
};

export function canonicalField(key: string): keyof ContractInput | null {
  return FIELD_ALIASES[key.toLowerCase().replace(/[\s_\-.]/g, '')] ?? null;
}

/** Reads one item. Unknown keys are ignored so an ERP export with extra columns still loads. */
export function parseContractItem(raw: unknown): ParsedItem {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, errors: [{ serviceId: null, field: '(item)', message: 'must be an object' }] };
  }
  const fields: Partial<Record<keyof ContractInput, unknown>> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const field = canonicalField(key);
    if (field && fields[field] === undefined) fields[field] = value;
  }

  // Text PostgreSQL cannot store (NUL, unpaired surrogates) makes the item an error by itself.
  const unstorable = Object.entries(fields).flatMap(([field, value]) => {
    const problem = typeof value === 'string' ? unstorableTextProblem(value) : null;
    return problem ? [{ field, message: problem }] : [];
  });
  if (unstorable.length > 0) {
    const id = unstorable.some((u) => u.field === 'serviceId') ? null : textOf(fields.serviceId);
    return { ok: false, errors: unstorable.map((u) => ({ serviceId: id, ...u })) };
  }

  const errors: Omit<ItemError, 'index'>[] = [];
  const serviceIdText = textOf(fields.serviceId);
  const serviceId = serviceIdText && serviceIdText.length <= MAX_SERVICE_ID_LENGTH && !/\s/.test(serviceIdText) ? serviceIdText : null;
  const fail = (field: string, message: string) => errors.push({ serviceId, field, message });

  if (!serviceIdText) fail('serviceId', 'is required (the ERP id_cliente_servico)');
  else if (!serviceId) fail('serviceId', `must be at most ${MAX_SERVICE_ID_LENGTH} characters without spaces`);

  const name = textOf(fields.name);
  if (!name) fail('name', 'is required');
  else if (name.length > MAX_TEXT_LENGTH) fail('name', `is longer than ${MAX_TEXT_LENGTH} characters`);

  let document: string | null = null;
  let derivedType: PersonType | null = null;
  const rawDocument = fields.document === undefined || fields.document === null ? null : String(fields.document);
  const normal = normaliseDocument(rawDocument);
  if (normal.ok) {
    document = normal.value;
    derivedType = normal.personType;
  } else if (normal.reason === 'empty') {
    fail('document', 'is required (CPF or CNPJ)');
  } else {
    fail('document', `${DOCUMENT_PROBLEMS[normal.reason]} (${normal.masked})`);
  }

  let personType: PersonType | null = derivedType;
  const typeText = textOf(fields.personType);
  if (typeText) {
    const given = PERSON_TYPE_SYNONYMS[typeText.toLowerCase()];
    if (!given) fail('personType', 'must be person or company (F/J)');
    else if (derivedType && given !== derivedType) {
      fail('personType', `is ${given} but the document is a ${derivedType === 'person' ? 'CPF (person)' : 'CNPJ (company)'}`);
    } else personType = given;
  }

  let status: ContractStatus = 'active';
  const statusText = textOf(fields.status);
  if (statusText) {
    const known = STATUS_SYNONYMS[statusText.toLowerCase()];
    if (!known) fail('status', `must be one of ${CONTRACT_STATUSES.join(', ')}`);
    else status = known;
  }

  const lat = coordinateOf(fields.lat);
  const lon = coordinateOf(fields.lon);
  if (lat === 'bad' || (typeof lat === 'number' && (lat < -90 || lat > 90))) fail('lat', 'must be a latitude between -90 and 90');
  if (lon === 'bad' || (typeof lon === 'number' && (lon < -180 || lon > 180))) fail('lon', 'must be a longitude between -180 and 180');
  if ((lat === null) !== (lon === null)) fail(lat === null ? 'lat' : 'lon', 'lat and lon go together: give both or neither');
  if (lat === 0 && lon === 0) fail('lat', 'lat 0, lon 0 is not a service location (missing coordinates?)');

  const optional = {} as Record<'address' | 'email' | 'phone' | 'city' | 'state' | 'zipCode', string | null>;
  for (const key of ['address', 'email', 'phone', 'city', 'state', 'zipCode'] as const) {
    const value = textOf(fields[key]);
    if (value !== null && value.length > MAX_TEXT_LENGTH) fail(key, `is longer than ${MAX_TEXT_LENGTH} characters`);
    optional[key] = value;
  }

  if (errors.length > 0 || !serviceId || !name || !document || !personType || typeof lat === 'string' || typeof lon === 'string') {
    return { ok: false, errors };
  }
  return { ok: true, value: { serviceId, document, name, personType, status, lat, lon, ...optional } };
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
