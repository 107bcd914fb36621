import type { Knex } from 'knex';
import { containsPattern } from '../../db/text-search.ts';

export interface IssueView {
  kind: string;
  externalId: string | null;
  code: string;
  reason: string;
  /** A customer's issue: the customer's name on the platform, as mapsync has it now; else null. */
  customerName: string | null;
}

export interface RunReportPage {
  /** `issuesPrunedAt`: when the retention deleted the run's issues (they are then no longer listed), else null. */
  summary: { total: number; byCode: Record<string, number>; byKind: Record<string, number>; issuesPrunedAt: string | null };
  issues: IssueView[];
  page: { limit: number; offset: number; total: number; nextOffset: number | null };
}

/** Which of a run's issues: `kind` and `code` take one value or a comma-separated list; `q` is text anywhere in the platform id, the reason or the customer's name. */
export interface RunIssueFilter {
  kind?: string;
  code?: string;
  q?: string;
}

export interface RunReportQuery extends RunIssueFilter {
  limit: number;
  offset: number;
}

const list = (value: string) => value.split(',').map((part) => part.trim()).filter(Boolean);

/** The run's issues (`sync_issues as i`) that the filter keeps. */
export function filteredIssues(knex: Knex, runId: string, filter: RunIssueFilter): Knex.QueryBuilder {
  const q = knex('sync_issues as i').where('i.run_id', runId);
  if (filter.kind && list(filter.kind).length > 0) q.whereIn('i.kind', list(filter.kind));
  if (filter.code && list(filter.code).length > 0) q.whereIn('i.code', list(filter.code));
  const text = filter.q?.trim();
  if (text) {
    const pattern = containsPattern(text);
    q.where((w) =>
      w
        .whereRaw(`i.external_id ILIKE ? ESCAPE '\\'`, [pattern])
        .orWhereRaw(`i.reason ILIKE ? ESCAPE '\\'`, [pattern])
        .orWhereExists(
          knex('platform_customers as f')
            .whereRaw('f.integration_id = i.integration_id AND f.external_id = i.external_id')
            .whereRaw(`f.name ILIKE ? ESCAPE '\\'`, [pattern]),
        ),
    );
  }
  return q;
}

/**
 * One page of a run's issues (rejected elements, unlinked or ambiguous customers, removed
 * ports with bindings), with totals per code and kind over the whole run.
 */
export async function loadRunReport(knex: Knex, runId: string, query: RunReportQuery): Promise<RunReportPage> {
  const filtered = () => filteredIssues(knex, runId, query);
  const grouped = await knex('sync_issues')
    .where({ run_id: runId })
    .select('kind', 'code')
    .count<{ kind: string; code: string; count: number | string }[]>({ count: '*' })
    .groupBy('kind', 'code');
  const byCode: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  let total = 0;
  for (const row of grouped) {
    const count = Number(row.count);
    byCode[row.code] = (byCode[row.code] ?? 0) + count;
    byKind[row.kind] = (byKind[row.kind] ?? 0) + count;
    total += count;
  }
  const filteredTotal =
    query.kind || query.code || query.q?.trim() ? Number((await filtered().count<{ count: number | string }[]>({ count: '*' }))[0]?.count ?? 0) : total;
  const rows = await filtered()
    .leftJoin('platform_customers as pc', function () {
      this.on('pc.integration_id', '=', 'i.integration_id').andOn('pc.external_id', '=', 'i.external_id').andOnVal('i.kind', '=', 'customers');
    })
    .orderBy('i.id')
    .limit(query.limit)
    .offset(query.offset)
    .select<{ kind: string; external_id: string | null; code: string; reason: string; customer_name: string | null }[]>(
      'i.kind',
      'i.external_id',
      'i.code',
      'i.reason',
      'pc.name as customer_name',
    );
  const nextOffset = query.offset + rows.length < filteredTotal ? query.offset + rows.length : null;
  const run = (await knex('sync_runs').where({ id: runId }).first('issues_pruned_at')) as { issues_pruned_at: Date | null } | undefined;
  const issuesPrunedAt = run?.issues_pruned_at ? new Date(run.issues_pruned_at).toISOString() : null;
  return {
    summary: { total, byCode, byKind, issuesPrunedAt },
    issues: rows.map((row) => ({ kind: row.kind, externalId: row.external_id, code: row.code, reason: row.reason, customerName: row.customer_name })),
    page: { limit: query.limit, offset: query.offset, total: filteredTotal, nextOffset },
  };
}

export const issueViewSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string' },
    externalId: { type: ['string', 'null'] },
    code: { type: 'string' },
    reason: { type: 'string' },
    customerName: { type: ['string', 'null'], description: "a customer's issue: the customer's name on the platform, as mapsync has it now" },
  },
} as const;
