import type { RunView } from '../../http/presenters/run.presenter.ts';
import type { IssueView } from '../../http/presenters/run-report.ts';

/** A run as text: status line, times, and a table of counts per element kind. */
export function formatRun(run: RunView): string[] {
  const lines = [
    `run ${run.id}  ${run.integrationId}  ${run.status.toUpperCase()}  (trigger: ${run.trigger}${run.options.full ? ', full' : ''}${run.options.force ? ', force' : ''})`,
    `  queued ${run.queuedAt ?? '-'}  started ${run.startedAt ?? '-'}  finished ${run.finishedAt ?? '-'}${run.durationMs !== null ? `  (${(run.durationMs / 1000).toFixed(1)} s)` : ''}`,
  ];
  if (run.scheduledFor) lines.push(`  scheduled for ${run.scheduledFor}`);
  if (run.retryOf) lines.push(`  attempt ${run.attempt}: re-runs ${run.retryOf}, whose process died`);
  if (run.error) lines.push(`  error: ${run.error}`);
  const kinds = Object.entries(run.counts);
  if (kinds.length > 0) {
    lines.push(`  ${'kind'.padEnd(24)} ${['created', 'updated', 'unchanged', 'removed', 'rejected'].map((h) => h.padStart(9)).join(' ')}`);
    for (const [kind, c] of kinds) {
      lines.push(`  ${kind.padEnd(24)} ${[c.created, c.updated, c.unchanged, c.removed, c.rejected].map((n) => String(n).padStart(9)).join(' ')}`);
    }
  }
  return lines;
}

/** The run's issue counts by code, then the issues listed (a page of `listedOf` matching ones). */
export function formatIssues(issues: IssueView[], byCode: Record<string, number>, listedOf: number): string[] {
  const total = Object.values(byCode).reduce((sum, n) => sum + n, 0);
  if (total === 0) return ['  no issues'];
  const lines = [
    `  ${total} issue(s): ${Object.entries(byCode).map(([code, n]) => `${code} ${n}`).join(', ')}`,
    ...issues.map((issue) => `  ${issue.kind.padEnd(12)} ${String(issue.externalId ?? '-').padEnd(12)} ${issue.code.padEnd(20)} ${issue.reason}`),
  ];
  if (listedOf > issues.length) {
    lines.push(`  … ${listedOf - issues.length} more: narrow with --kind/--code, list more with --issues N, or use --json`);
  }
  return lines;
}
