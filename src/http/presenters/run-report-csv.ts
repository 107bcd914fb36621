import { stringify } from 'csv-stringify/sync';
import type { Knex } from 'knex';
import { filteredIssues, type RunIssueFilter } from './run-report.ts';

/** Columns of GET /v1/sync-runs/:runId/report.csv, in order. */
export const REPORT_CSV_COLUMNS = ['kind', 'platform_id', 'code', 'reason', 'customer_name', 'document_masked', 'box', 'port'] as const;

export interface ReportCsvOptions {
  /** `;` for a file Excel in pt-BR (and other locales whose decimal mark is a comma) splits on a double-click. */
  delimiter: ',' | ';';
  /** A UTF-8 byte order mark first, by which Excel knows the file is UTF-8 (names with accents). */
  bom: boolean;
  /** Issues per query (keyset on the issue id). */
  batchRows?: number;
}

interface CsvRow {
  id: number;
  kind: string;
  external_id: string | null;
  code: string;
  reason: string;
  customer_name: string | null;
  document_masked: string | null;
  box: string | null;
  port: string | null;
}

/**
 * A run's issues as CSV (RFC 4180: CRLF line ends, fields holding the delimiter, a quote or a
 * line break quoted, quotes doubled), in pieces of text to write as they come: the header,
 * then one piece per batch read by keyset on the issue id. A customer's issue carries the
 * customer's name, masked document, box and port as they are now in mapsync. A text field that
 * starts with = + - @ or a tab is prefixed with ' so a spreadsheet never runs it as a formula
 * (OWASP "CSV injection").
 */
export async function* runReportCsvChunks(knex: Knex, runId: string, filter: RunIssueFilter, options: ReportCsvOptions): AsyncGenerator<string> {
  const format = (rows: CsvRow[], first: boolean) =>
    stringify(
      rows.map((row) => [row.kind, row.external_id, row.code, row.reason, row.customer_name, row.document_masked, row.box, row.port]),
      {
        header: first,
        columns: [...REPORT_CSV_COLUMNS],
        bom: first && options.bom,
        delimiter: options.delimiter,
        record_delimiter: 'windows',
        escape_formulas: true,
      },
    );
  yield format([], true);
  const batchRows = options.batchRows ?? 2000;
  let lastId = 0;
  for (;;) {
    const rows = (await filteredIssues(knex, runId, filter)
      .leftJoin('platform_customers as pc', function () {
        this.on('pc.integration_id', '=', 'i.integration_id').andOn('pc.external_id', '=', 'i.external_id').andOnVal('i.kind', '=', 'customers');
      })
      .leftJoin('ports as p', function () {
        this.on('p.integration_id', '=', 'pc.integration_id').andOn('p.external_id', '=', 'pc.port_external_id');
      })
      .leftJoin('splitters as s', 's.id', 'p.splitter_id')
      .leftJoin('boxes as bx', 'bx.id', 's.box_id')
      .where('i.id', '>', lastId)
      .orderBy('i.id')
      .limit(batchRows)
      .select(
        'i.id',
        'i.kind',
        'i.external_id',
        'i.code',
        'i.reason',
        'pc.name as customer_name',
        'pc.document_masked',
        'bx.name as box',
        knex.raw(`COALESCE(p.label, p.number::text, pc.port_external_id) AS port`),
      )) as CsvRow[];
    if (rows.length === 0) return;
    yield format(rows, false);
    lastId = Number(rows[rows.length - 1]!.id);
    if (rows.length < batchRows) return;
  }
}
