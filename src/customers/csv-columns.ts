/**
 * Which field each column of an ERP export feeds, from its header as people write it
 * (`Situação`, `CPF/CNPJ`, `E-mail`, `"Nome"`): accents, case, spaces and punctuation are
 * ignored (FIELD_ALIASES). A header that is not an alias but names a known field
 * (`Situação financeira`, `CPF do responsável`) is reported as not recognised, never dropped
 * in silence.
 */
import { canonicalField, normaliseFieldName, type InputField } from './customer-input.ts';

export const REQUIRED_FIELDS = ['serviceId', 'document', 'name'] as const;

export interface CsvColumn {
  /** 0-based position in the row. */
  index: number;
  /** The header as written (trimmed). */
  header: string;
  field: InputField | null;
}

export interface ColumnPlan {
  columns: CsvColumn[];
  /** Fields some column feeds. */
  fields: Set<InputField>;
  /** Headers of columns that are not read and look like no known field. */
  ignored: string[];
  /** Headers that look like a known field but are not read, with that field. */
  unrecognised: { header: string; looksLike: InputField }[];
  missing: (typeof REQUIRED_FIELDS)[number][];
}

/** Words that show what a header is about, although the header as a whole is not an alias. */
const FIELD_WORDS: readonly [RegExp, InputField][] = [
  [/cpf|cnpj|documento/, 'document'],
  [/status|situacao/, 'status'],
  [/contrato|servico|conexao/, 'serviceId'],
  [/nome|razao|titular|assinante/, 'name'],
  [/endereco|logradouro/, 'address'],
  [/telefone|celular|fone|whatsapp/, 'phone'],
  [/email/, 'email'],
  [/cidade|municipio/, 'city'],
  [/^cep|cep$/, 'zipCode'],
  [/latitude/, 'lat'],
  [/longitude/, 'lon'],
  [/coordenada|geolocaliza/, 'coordinates'],
];

export function planColumns(headers: readonly string[]): ColumnPlan {
  const columns: CsvColumn[] = headers.map((raw, index) => {
    const header = raw.replace(/^[\s\u00a0\u200b\ufeff]+|[\s\u00a0\u200b]+$/g, '');
    return { index, header, field: header === '' ? null : canonicalField(header) };
  });
  const fields = new Set(columns.flatMap((column) => (column.field ? [column.field] : [])));
  const ignored: string[] = [];
  const unrecognised: ColumnPlan['unrecognised'] = [];
  for (const column of columns) {
    if (column.field || column.header === '') continue;
    const normal = normaliseFieldName(column.header);
    const looksLike = FIELD_WORDS.find(([words]) => words.test(normal))?.[1];
    if (looksLike) unrecognised.push({ header: column.header, looksLike });
    else ignored.push(column.header);
  }
  const missing = REQUIRED_FIELDS.filter((field) => !fields.has(field));
  return { columns, fields, ignored, unrecognised, missing };
}

/** The names each field is recognised by in a header, for messages. */
export const FIELD_HEADER_EXAMPLES: Readonly<Record<string, string>> = {
  serviceId: 'service_id, id_cliente_servico, contrato',
  document: 'document, cpf_cnpj, CPF/CNPJ, cpf, cnpj',
  name: 'name, nome, razão social',
  status: 'status, situação',
  address: 'address, endereço, logradouro',
  phone: 'phone, telefone, celular',
  email: 'email, e-mail',
  city: 'city, cidade',
  zipCode: 'zip_code, cep',
  lat: 'lat, latitude',
  lon: 'lon, longitude',
};
