import type { Knex } from 'knex';

export interface IssueView {
  kind: string;
  externalId: string | null;
  code: string;
  reason: string;
}

export interface RunReportPage {
  /** `issuesPrunedAt`: when the retention deleted the run's issues (they are then no longer listed), else null. */
  summary: { total: number; byCode: Record<string, number>; byKind: Record<string, number>; issuesPrunedAt: string | null };
  issues: IssueView[];
  page: { limit: number; offset: number; total: number; nextOffset: number | null };
}

export interface RunReportQuery {
  limit: number;
  offset: number;
  kind?: string;
  code?: string;
}

/**
 * One page of a run's issues (rejected elements, unlinked or ambiguous customers, removed
 * ports with bindings), with totals per code and kind over the whole run.
 */
export async function loadRunReport(knex: Knex, runId: string, query: RunReportQuery): Promise<RunReportPage> {
  const filtered = () => {
    const q = knex('sync_issues').where({ run_id: runId });
    if (query.kind) q.andWhere({ kind: query.kind });
    if (query.code) q.andWhere({ code: query.code });
    return q;
  };
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
    query.kind || query.code ? Number((await filtered().count<{ count: number | string }[]>({ count: '*' }))[0]?.count ?? 0) : total;
  const rows = await filtered()
    .orderBy('id')
    .limit(query.limit)
    .offset(query.offset)
    .select<{ kind: string; external_id: string | null; code: string; reason: string }[]>('kind', 'external_id', 'code', 'reason');
  const nextOffset = query.offset + rows.length < filteredTotal ? query.offset + rows.length : null;
  const run = (await knex('sync_runs').where({ id: runId }).first('issues_pruned_at')) as { issues_pruned_at: Date | null } | undefined;
  const issuesPrunedAt = run?.issues_pruned_at ? new Date(run.issues_pruned_at).toISOString() : null;
  return {
    summary: { total, byCode, byKind, issuesPrunedAt },
    issues: rows.map((row) => ({ kind: row.kind, externalId: row.external_id, code: row.code, reason: row.reason })),
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
  },
} as const;
