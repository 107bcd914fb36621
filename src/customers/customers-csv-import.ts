/**
 * `mapsync customers import <file.csv>`: the same upsert as `POST /v1/customers` (the same
 * rules, parseContractItem), from a CSV export as ERPs and Excel write it, in batches of
 * 1000 rows.
 *
 * What it copes with, and how (each case is in test/fixtures/erp-csv/):
 * - encoding: BOM, else UTF-8 when valid, else Windows-1252 (csv-text.ts); a file that is
 *   neither is refused naming the line;
 * - Excel: a `sep=;` first line, `="00123"` cells, trailing empty columns, rows of only
 *   delimiters (skipped, counted), title lines above the header;
 * - headers as people write them (csv-columns.ts); two columns for one field are merged;
 * - a broken line (a quote never closed, text after a closing quote) is refused with its
 *   line number and reading goes on with the next line: nothing before or after it is lost.
 * Line numbers are the lines an editor shows: a record starts on its first line, and a
 * line break inside a quoted value counts as the line it is.
 * The counts always add up: rows = saved + rejected + skipped.
 * The file is read whole: its encoding is decided on all of it before any row is saved, and
 * an ERP export is tens of megabytes at most.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Knex } from 'knex';
import { FieldEntries, type ItemError } from './customer-input.ts';
import { MAX_ITEMS_PER_REQUEST, upsertCustomers } from './customers.service.ts';
import type { UpsertCounts } from './customers.repository.ts';
import { decodeCsv, CsvEncodingError, type CsvEncoding } from './csv-text.ts';
import { detectDelimiter, excelSeparatorLine, readCsvRecords, splitLines, type CsvDelimiter } from './csv-records.ts';
import { FIELD_HEADER_EXAMPLES, planColumns, REQUIRED_FIELDS, type ColumnPlan } from './csv-columns.ts';

export { detectDelimiter } from './csv-records.ts';
export const REQUIRED_COLUMNS = REQUIRED_FIELDS;

/** The file cannot be imported at all (nothing was saved). */
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

export type SkipReason = 'empty row';

export interface CsvImportResult {
  file: string;
  encoding: CsvEncoding;
  delimiter: CsvDelimiter;
  /** Line of the header (a `sep=` line or title lines may come before it). */
  headerLine: number;
  /** Data rows after the header: rows = saved + rejectedRows + skippedRows. */
  rows: number;
  saved: number;
  created: number;
  updated: number;
  unchanged: number;
  customers: UpsertCounts;
  /** One entry per bad field; `line` is the line the row starts on (the first line is 1). */
  errors: CsvRowError[];
  /** Saved rows with a note (two columns of one field that differ). */
  warnings: CsvRowError[];
  /** Rows with at least one error, broken lines included: not saved. */
  rejectedRows: number;
  skippedRows: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** Lines that could not be read as CSV; reading went on with the next line. */
  brokenLines: number[];
  /** Recognised columns: header → field. */
  columns: { header: string; field: string }[];
  /** Columns not read, and not looking like a known field. */
  ignoredColumns: string[];
  /** Columns not read although their header names a known field. */
  unrecognisedColumns: { header: string; looksLike: string }[];
  /** Set when the file has no status column: the status every contract was saved with. */
  assumedStatus: 'active' | null;
  /** Kept for the JSON output's shape: reading never stops early (broken lines are skipped). */
  stoppedAt: string | null;
}

/** U+FFFD, or UTF-8 decoded twice (`Ã§`): letters lost before the file reached mapsync. */
const LOST_LETTERS = /\uFFFD|Ã[\u0080-\u00bf]/;

/** Header candidates: a title or blank lines may precede the header in an ERP report. */
const HEADER_SEARCH_LINES = 10;

/**
 * Imports a CSV export. Throws CsvImportError (nothing saved) for a file that cannot be
 * read, has no header with the required columns, has a status-like column that is not
 * recognised, or whose encoding cannot be told; every other problem is per row.
 */
export async function importContractsCsv(
  knex: Knex,
  file: string,
  options: { onProgress?: (progress: CsvImportProgress) => void; batchSize?: number } = {},
): Promise<CsvImportResult> {
  let buffer: Buffer;
  try {
    if (!statSync(file).isFile()) throw new CsvImportError(`${file} is not a file`);
    buffer = readFileSync(file);
  } catch (error) {
    if (error instanceof CsvImportError) throw error;
    throw new CsvImportError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const totalBytes = buffer.length;
  let decoded;
  try {
    decoded = decodeCsv(buffer);
  } catch (error) {
    if (error instanceof CsvEncodingError) throw new CsvImportError(`${file}: ${error.message}`);
    throw error;
  }
  const lines = splitLines(decoded.text);
  const { delimiter, headerIndex, plan } = findHeader(file, lines);

  const batchSize = Math.min(options.batchSize ?? MAX_ITEMS_PER_REQUEST, MAX_ITEMS_PER_REQUEST);
  const result: CsvImportResult = {
    file,
    encoding: decoded.encoding,
    delimiter,
    headerLine: headerIndex + 1,
    rows: 0,
    saved: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    customers: { created: 0, updated: 0, unchanged: 0 },
    errors: [],
    warnings: [],
    rejectedRows: 0,
    skippedRows: 0,
    skipped: {},
    brokenLines: [],
    columns: plan.columns.flatMap((column) => (column.field ? [{ header: column.header, field: column.field }] : [])),
    ignoredColumns: plan.ignored,
    unrecognisedColumns: plan.unrecognised,
    assumedStatus: plan.fields.has('status') ? null : 'active',
    stoppedAt: null,
  };
  const headerCount = lastFilled(plan.columns.map((column) => column.header)) + 1;
  const mapped = plan.columns.filter((column) => column.field !== null);
  const serviceIdColumns = mapped.filter((column) => column.field === 'serviceId');
  const firstLineOf = new Map<string, number>();
  const unnamedWithValues = new Set<number>();
  let batch: { line: number; item: FieldEntries }[] = [];
  let linesDone = 0;

  const progress = () =>
    options.onProgress?.({ rows: result.rows, bytes: Math.round((linesDone / Math.max(1, lines.length)) * totalBytes), totalBytes, errors: result.errors.length });
  const reject = (line: number, serviceId: string | null, field: string, message: string) => {
    result.errors.push({ line, serviceId, field, message });
    result.rejectedRows += 1;
  };
  const flush = async () => {
    if (batch.length === 0) return;
    const lineOf = batch.map((row) => row.line);
    const outcome = await upsertCustomers(
      knex,
      batch.map((row) => row.item),
      { indexOf: (position) => lineOf[position]! },
    );
    result.created += outcome.created;
    result.updated += outcome.updated;
    result.unchanged += outcome.unchanged;
    result.customers.created += outcome.customers.created;
    result.customers.updated += outcome.customers.updated;
    result.customers.unchanged += outcome.customers.unchanged;
    result.errors.push(...outcome.errors.map(toRowError));
    result.warnings.push(...outcome.warnings.map(toRowError));
    result.rejectedRows += new Set(outcome.errors.map((e) => e.index)).size;
    batch = [];
    progress();
  };

  for (const record of readCsvRecords(lines, delimiter, headerIndex + 1, headerCount)) {
    result.rows += 1;
    linesDone = record.line;
    if (record.kind === 'broken') {
      result.brokenLines.push(record.line);
      reject(record.line, null, '(line)', record.message);
      continue;
    }
    const { fields } = record;
    if (fields.every((value) => isBlankCell(value))) {
      result.skippedRows += 1;
      result.skipped['empty row'] = (result.skipped['empty row'] ?? 0) + 1;
      continue;
    }
    const filled = lastFilled(fields) + 1;
    if (filled > headerCount) {
      const serviceId = serviceIdOf(fields, serviceIdColumns);
      reject(
        record.line,
        serviceId,
        '(line)',
        `has ${filled} values but the header has ${headerCount} columns: a value holding "${delimiter === '\t' ? '\\t' : delimiter}" must be quoted`,
      );
      continue;
    }
    for (const column of plan.columns) {
      if (column.header === '' && !isBlankCell(fields[column.index])) unnamedWithValues.add(column.index);
    }
    const serviceId = serviceIdOf(fields, serviceIdColumns);
    const first = serviceId ? firstLineOf.get(serviceId) : undefined;
    if (first !== undefined) {
      reject(record.line, serviceId, 'serviceId', `appears again (first at line ${first}); send each contract once`);
      continue;
    }
    if (serviceId) firstLineOf.set(serviceId, record.line);
    batch.push({ line: record.line, item: new FieldEntries(mapped.map((column) => [column.header, fields[column.index] ?? ''] as const)) });
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  for (const index of unnamedWithValues) result.ignoredColumns.push(`(column ${index + 1}, no header)`);
  result.saved = result.created + result.updated + result.unchanged;
  linesDone = lines.length;
  progress();
  result.errors.sort((a, b) => a.line - b.line);
  result.warnings.sort((a, b) => a.line - b.line);
  return result;
}

/**
 * The header: the first line (after Excel's `sep=`) that names the required columns; a
 * report's title lines above it are passed over. Throws CsvImportError when there is none,
 * or when a column looks like the status but is not recognised (every contract would
 * otherwise be saved as active, whatever the ERP says).
 */
function findHeader(file: string, lines: readonly string[]): { delimiter: CsvDelimiter; headerIndex: number; plan: ColumnPlan } {
  let start = 0;
  let forced: CsvDelimiter | null = null;
  while (start < lines.length && lines[start]!.trim() === '') start += 1;
  if (start < lines.length) {
    forced = excelSeparatorLine(lines[start]!);
    if (forced) start += 1;
  }
  let bestCandidate: { delimiter: CsvDelimiter; headerIndex: number; plan: ColumnPlan; names: string[] } | null = null;
  for (let index = start, seen = 0; index < lines.length && seen < HEADER_SEARCH_LINES; index += 1) {
    if (lines[index]!.replace(/[;,\t|"\s]/g, '') === '') continue;
    seen += 1;
    const delimiter = forced ?? detectDelimiter(lines[index]!);
    const header = readCsvRecords(lines.slice(index, index + 1), delimiter).next().value;
    const names = header && header.kind === 'record' ? header.fields : [lines[index]!];
    const plan = planColumns(names);
    if (!bestCandidate || plan.missing.length < bestCandidate.plan.missing.length) bestCandidate = { delimiter, headerIndex: index, plan, names };
    if (plan.missing.length === 0) return checked(file, { delimiter, headerIndex: index, plan });
  }
  if (!bestCandidate) {
    throw new CsvImportError(`${file} is empty: a header row is needed (${REQUIRED_FIELDS.join(', ')}, …)`);
  }
  const { plan, names, headerIndex } = bestCandidate;
  const hints = plan.unrecognised
    .filter((column) => (plan.missing as readonly string[]).includes(column.looksLike))
    .map((column) => `; "${column.header}" looks like ${column.looksLike} but is not a name mapsync knows`);
  const lost = names.find((name) => LOST_LETTERS.test(name));
  if (lost) {
    hints.push(`; the header has lost letters ("${lost.trim()}"): the file was saved in another encoding before it reached mapsync, export it again from the ERP as UTF-8`);
  }
  throw new CsvImportError(
    `${file}: missing column(s) ${plan.missing.join(', ')} in the header on line ${headerIndex + 1} ` +
      `(found: ${names.map((name) => `"${name}"`).join(', ') || 'nothing'})${hints.join('')}; ` +
      `accepted names: ${plan.missing.map((field) => `${field}: ${FIELD_HEADER_EXAMPLES[field]}`).join('; ')}`,
  );
}

function checked<T extends { plan: ColumnPlan; headerIndex: number }>(file: string, found: T): T {
  const damaged = found.plan.columns.find((column) => LOST_LETTERS.test(column.header));
  if (damaged) {
    // A header whose letters are lost cannot be matched: its column (the status, say) would be dropped.
    throw new CsvImportError(
      `${file}: the header on line ${found.headerIndex + 1} has lost letters ("${damaged.header}"): the file was saved in another ` +
        'encoding before it reached mapsync; export it again from the ERP as UTF-8',
    );
  }
  if (!found.plan.fields.has('status')) {
    const statusLike = found.plan.unrecognised.filter((column) => column.looksLike === 'status');
    if (statusLike.length > 0) {
      throw new CsvImportError(
        `${file}: column ${statusLike.map((c) => `"${c.header}"`).join(', ')} on line ${found.headerIndex + 1} looks like the contract status ` +
          `but is not recognised, and without a status every contract would be saved as active; ` +
          `rename it to "status" (or "situacao") if it holds the contract status, or remove it`,
      );
    }
  }
  return found;
}

function isBlankCell(value: string | undefined): boolean {
  return value === undefined || /^[\s\u00a0\u200b]*$/.test(value) || /^=\s*"\s*"$/.test(value.trim());
}

function lastFilled(values: readonly (string | undefined)[]): number {
  for (let i = values.length - 1; i >= 0; i--) if (!isBlankCell(values[i])) return i;
  return -1;
}

/** The row's service id as the duplicate check sees it: trimmed, Excel's `="…"` unwrapped. */
function serviceIdOf(fields: readonly string[], columns: readonly { index: number }[]): string | null {
  for (const column of columns) {
    const raw = fields[column.index];
    if (isBlankCell(raw)) continue;
    const text = raw!.trim();
    return (/^=\s*"(.*)"$/s.exec(text)?.[1] ?? text).trim();
  }
  return null;
}

function toRowError(error: ItemError): CsvRowError {
  return { line: error.index, serviceId: error.serviceId, field: error.field, message: error.message };
}
