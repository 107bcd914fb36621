/**
 * `mapsync customers import <file.csv>`: the same upsert as `POST /v1/customers`, from a
 * CSV export, streamed in batches of 1000 rows.
 *
 * Columns (a header row is required; names are case-insensitive and `_`/space-insensitive,
 * Portuguese names accepted; other columns are ignored):
 *   service_id (id_cliente_servico)  required
 *   document   (cpf_cnpj, documento) required: CPF or CNPJ (numeric or alphanumeric), any punctuation
 *   name       (nome)                required
 *   person_type (tipo_pessoa)        optional: person|company (F/J); derived from the document
 *   status     (situacao)            optional: active|inactive|suspended|cancelled (ativo, suspenso, cancelado…); default active
 *   address (endereco), lat (latitude), lon (longitude), email, phone (telefone),
 *   city (cidade), state (uf), zip_code (cep)     optional; a decimal comma is accepted in lat/lon
 * The delimiter is `;` or `,` (whichever the header uses); a UTF-8 BOM is skipped.
 */
import { closeSync, openSync, readSync, statSync, createReadStream } from 'node:fs';
import type { Knex } from 'knex';
import { parse } from 'csv-parse';
import { canonicalField, type ItemError } from './customer-input.ts';
import { MAX_ITEMS_PER_REQUEST, upsertCustomers } from './customers.service.ts';
import type { UpsertCounts } from './customers.repository.ts';

export const REQUIRED_COLUMNS = ['serviceId', 'document', 'name'] as const;

export class CsvImportError extends Error {}

export interface CsvImportProgress {
  rows: number;
  bytes: number;
  totalBytes: number;
  errors: number;
}

export interface CsvRowError {
  line: number;
  serviceId: string | null;
  field: string;
  message: string;
}

export interface CsvImportResult {
  file: string;
  delimiter: ';' | ',';
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  customers: UpsertCounts;
  /** One entry per bad field; `line` is the CSV line number (the header is line 1). */
  errors: CsvRowError[];
  /** Rows with at least one error: not saved. */
  rejectedRows: number;
  /** Set when the file could not be read to its end (rows before that point are saved). */
  stoppedAt: string | null;
}

/** `;` or `,`: the one the header line uses more (outside quotes). */
export function detectDelimiter(headerLine: string): ';' | ',' {
  let semicolons = 0;
  let commas = 0;
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === ';') semicolons += 1;
    else if (!quoted && ch === ',') commas += 1;
  }
  return semicolons > commas ? ';' : ',';
}

function firstLine(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, read).toString('utf8').replace(/^\uFEFF/, '');
    return text.split(/\r?\n/, 1)[0] ?? '';
  } finally {
    closeSync(fd);
  }
}

export async function importContractsCsv(
  knex: Knex,
  file: string,
  options: { onProgress?: (progress: CsvImportProgress) => void; batchSize?: number } = {},
): Promise<CsvImportResult> {
  let totalBytes: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new CsvImportError(`${file} is not a file`);
    totalBytes = stat.size;
  } catch (error) {
    if (error instanceof CsvImportError) throw error;
    throw new CsvImportError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const header = firstLine(file);
  if (header.trim() === '') throw new CsvImportError(`${file} is empty: a header row is needed (${REQUIRED_COLUMNS.join(', ')}, …)`);
  const delimiter = detectDelimiter(header);

  const batchSize = Math.min(options.batchSize ?? MAX_ITEMS_PER_REQUEST, MAX_ITEMS_PER_REQUEST);
  const result: CsvImportResult = {
    file,
    delimiter,
    rows: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    customers: { created: 0, updated: 0, unchanged: 0 },
    errors: [],
    rejectedRows: 0,
    stoppedAt: null,
  };
  const firstLineOf = new Map<string, number>();
  let batch: { line: number; item: Record<string, string> }[] = [];
  let bytes = 0;

  const flush = async () => {
    if (batch.length === 0) return;
    const lines = batch.map((row) => row.line);
    const outcome = await upsertCustomers(
      knex,
      batch.map((row) => row.item),
      { indexOf: (position) => lines[position]! },
    );
    result.created += outcome.created;
    result.updated += outcome.updated;
    result.unchanged += outcome.unchanged;
    result.customers.created += outcome.customers.created;
    result.customers.updated += outcome.customers.updated;
    result.customers.unchanged += outcome.customers.unchanged;
    result.errors.push(...outcome.errors.map(toRowError));
    result.rejectedRows += new Set(outcome.errors.map((e) => e.index)).size;
    batch = [];
    options.onProgress?.({ rows: result.rows, bytes, totalBytes, errors: result.errors.length });
  };

  const parser = createReadStream(file).pipe(
    parse({
      delimiter,
      bom: true,
      columns: (names: string[]) => {
        const mapped = names.map((name) => canonicalField(name) ?? `ignored:${name}`);
        const missing = REQUIRED_COLUMNS.filter((column) => !mapped.includes(column));
        if (missing.length > 0) {
          throw new CsvImportError(
            `${file}: missing column(s) ${missing.join(', ')} in the header (found: ${names.join(', ') || 'nothing'}); ` +
              `expected service_id, document, name and optional person_type, status, address, lat, lon, email, phone, city, state, zip_code`,
          );
        }
        return mapped;
      },
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
    }),
  );

  try {
    for await (const record of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number; bytes: number } }>) {
      result.rows += 1;
      bytes = record.info.bytes;
      const line = record.info.lines;
      const serviceId = record.record.serviceId?.trim() ?? '';
      const first = serviceId ? firstLineOf.get(serviceId) : undefined;
      if (first !== undefined) {
        result.errors.push({ line, serviceId, field: 'serviceId', message: `appears again (first at line ${first}); send each contract once` });
        result.rejectedRows += 1;
        continue;
      }
      if (serviceId) firstLineOf.set(serviceId, line);
      batch.push({ line, item: record.record });
      if (batch.length >= batchSize) await flush();
    }
  } catch (error) {
    if (error instanceof CsvImportError) throw error;
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof CsvImportError) throw cause;
    // A broken file (an unclosed quote, …): what was read before it is still saved.
    await flush();
    result.stoppedAt = `${(error as Error).message}`;
    result.errors.sort((a, b) => a.line - b.line);
    return result;
  }
  await flush();
  options.onProgress?.({ rows: result.rows, bytes: totalBytes, totalBytes, errors: result.errors.length });
  result.errors.sort((a, b) => a.line - b.line);
  return result;
}

function toRowError(error: ItemError): CsvRowError {
  return { line: error.index, serviceId: error.serviceId, field: error.field, message: error.message };
}
