/**
 * Records of a CSV text, each with the line a person sees it start on in an editor, and a
 * broken line never taking the rest of the file with it.
 *
 * Record boundaries are found here (a line ends a record unless a quoted field is still
 * open); each record's fields are then split by csv-parse with `relax_quotes`, so a quote
 * inside an unquoted field (`Jose "Zeca" Teste`) is kept as typed. A quote that opens a field
 * and is not closed within MAX_RECORD_LINES lines (or by the end of the file) makes that one
 * line broken: it is reported and reading resumes on the next line.
 */
import { parse } from 'csv-parse/sync';

export type CsvDelimiter = ';' | ',' | '\t' | '|';

export type CsvItem =
  | { kind: 'record'; line: number; fields: string[] }
  | { kind: 'broken'; line: number; message: string };

/** A quoted value with line breaks (an address, an observation) spans a few lines, never dozens. */
export const MAX_RECORD_LINES = 20;

const LINE_BREAK = /\r\n|\n|\r/;

/**
 * The text's lines (CRLF, LF or a lone CR, as editors count them), without the empty lines at
 * the very end (a final line break, or the blank lines some exports finish with).
 */
export function splitLines(text: string): string[] {
  const lines = text.split(LINE_BREAK);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * `;`, `,`, tab or `|`: the one the header line uses most (outside quotes); `;` or `,` when
 * there is none.
 */
export function detectDelimiter(headerLine: string): CsvDelimiter {
  const counts = new Map<CsvDelimiter, number>([[';', 0], [',', 0], ['\t', 0], ['|', 0]]);
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch as CsvDelimiter)) counts.set(ch as CsvDelimiter, counts.get(ch as CsvDelimiter)! + 1);
  }
  let best: CsvDelimiter = counts.get(';')! > counts.get(',')! ? ';' : ',';
  for (const [delimiter, count] of counts) if (count > counts.get(best)!) best = delimiter;
  return best;
}

/** Excel's `sep=;` first line (also quoted, or followed by delimiters Excel pads it with). */
export function excelSeparatorLine(line: string): CsvDelimiter | null {
  const match = /^"?sep=(.)"?[;,\t|]*\s*$/i.exec(line.replace(/^\uFEFF/, ''));
  if (!match) return null;
  const ch = match[1]!;
  return ch === ';' || ch === ',' || ch === '\t' || ch === '|' ? ch : null;
}

interface QuoteState {
  inQuotes: boolean;
  atFieldStart: boolean;
  /** Delimiters met outside quotes. */
  delimiters: number;
  /** Position in the last scanned line of the quote that opened the field still open (-1: none). */
  openedAt: number;
}

function quoteState(): QuoteState {
  return { inQuotes: false, atFieldStart: true, delimiters: 0, openedAt: -1 };
}

/** Advances the quote state over one line; true when a quoted field is still open at its end. */
function scanLine(line: string, delimiter: string, state: QuoteState): boolean {
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (state.inQuotes) {
      if (ch === '"') {
        if (line[i + 1] === '"') i++;
        else state.inQuotes = false;
      }
    } else if (ch === delimiter) {
      state.delimiters += 1;
      state.atFieldStart = true;
    } else if (state.atFieldStart) {
      if (ch === ' ' || ch === '\t') continue;
      state.atFieldStart = false;
      if (ch === '"') {
        state.inQuotes = true;
        state.openedAt = i;
      }
    }
  }
  return state.inQuotes;
}

/** Records split by one csv-parse call: per-record calls would cost ~50 µs each. */
const PARSE_BATCH = 500;

/**
 * Values in a line read on its own, a quote left open counting as text (and how many
 * delimiters follow that quote): a line that already holds a whole row is not the start (or
 * the middle) of a value with line breaks.
 */
function standaloneFieldCount(line: string, delimiter: string): { count: number; afterOpenQuote: number } {
  const state = quoteState();
  let afterOpenQuote = 0;
  if (scanLine(line, delimiter, state)) for (let i = state.openedAt + 1; i < line.length; i++) if (line[i] === delimiter) afterOpenQuote += 1;
  return { count: 1 + state.delimiters + afterOpenQuote, afterOpenQuote };
}

/**
 * The line without the empty values at its end (Excel's `;;` padding): a continuation line of
 * a value with line breaks must not pass for a whole row by the count of its padding.
 */
function withoutTrailingEmptyFields(line: string, delimiter: string): string {
  let end = line.length;
  while (end > 0 && (line[end - 1] === delimiter || line[end - 1] === ' ' || line[end - 1] === '\t' || line[end - 1] === '\r')) end -= 1;
  return end === line.length ? line : line.slice(0, end);
}

/**
 * Yields every record and every broken line, in order, from `lines[from]` on. `line` numbers
 * are 1-based positions in `lines` (the line the record starts on). With `columns` (the
 * header's), a quote left open on a line that holds a whole row by itself, or that would
 * swallow a following whole row, makes that line broken instead of eating the next lines.
 */
export function* readCsvRecords(
  lines: readonly string[],
  delimiter: CsvDelimiter,
  from = 0,
  columns = Number.POSITIVE_INFINITY,
): Generator<CsvItem> {
  let pending: { line: number; text: string }[] = [];
  const drain = function* (): Generator<CsvItem> {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const rows = parseOrNull(batch.map((record) => record.text).join('\n'), delimiter);
    if (rows && rows.length === batch.length) {
      for (let k = 0; k < batch.length; k++) yield { kind: 'record', line: batch[k]!.line, fields: rows[k]! };
      return;
    }
    for (const record of batch) {
      try {
        yield { kind: 'record', line: record.line, fields: parseRecord(record.text, delimiter) };
      } catch (error) {
        yield { kind: 'broken', line: record.line, message: quoteProblem(error) };
      }
    }
  };

  let i = from;
  while (i < lines.length) {
    if (lines[i] === '') {
      yield* drain();
      yield { kind: 'record', line: i + 1, fields: [] };
      i += 1;
      continue;
    }
    const state = quoteState();
    let j = i;
    let open = scanLine(lines[j]!, delimiter, state);
    const first = open ? standaloneFieldCount(lines[i]!, delimiter) : null;
    // The rest of the row follows the quote on its own line: the quote was never meant to open a value.
    let swallowsRow = first !== null && first.afterOpenQuote > 0 && first.count >= columns;
    while (open && !swallowsRow && j + 1 < lines.length && j - i + 1 < MAX_RECORD_LINES) {
      j += 1;
      if (standaloneFieldCount(withoutTrailingEmptyFields(lines[j]!, delimiter), delimiter).count >= columns) swallowsRow = true;
      open = scanLine(lines[j]!, delimiter, state);
    }
    if (open || swallowsRow) {
      yield* drain();
      yield {
        kind: 'broken',
        line: i + 1,
        message: 'a quote (") opens a value here and is never closed; remove it, or double it ("") inside a quoted value',
      };
      i += 1;
      continue;
    }
    pending.push({ line: i + 1, text: j === i ? lines[i]! : lines.slice(i, j + 1).join('\n') });
    if (pending.length >= PARSE_BATCH) yield* drain();
    i = j + 1;
  }
  yield* drain();
}

const PARSE_OPTIONS = { relax_quotes: true, relax_column_count: true, trim: true, skip_empty_lines: false } as const;

function parseRecord(text: string, delimiter: CsvDelimiter): string[] {
  if (text === '') return [''];
  const rows = parse(text, { ...PARSE_OPTIONS, delimiter }) as string[][];
  if (rows.length !== 1) throw new Error(`holds ${rows.length} records`);
  return rows[0]!;
}

function parseOrNull(text: string, delimiter: CsvDelimiter): string[][] | null {
  try {
    return parse(text, { ...PARSE_OPTIONS, delimiter }) as string[][];
  } catch {
    return null;
  }
}

function quoteProblem(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'CSV_INVALID_CLOSING_QUOTE' || code === 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE') {
    return 'a quoted value is followed by more text before the delimiter (like "Jose "Zeca" Teste"); double the quotes inside it ("") or remove them';
  }
  return `cannot be read as CSV: ${(error as Error).message.replace(/ at line \d+/, '')}`;
}
