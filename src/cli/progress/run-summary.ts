import type { RunView } from '../../http/presenters/run.presenter.ts';
import type { IssueView } from '../../http/presenters/run-report.ts';

/** A run as text: status line, times, and a table of counts per element kind. */
export function formatRun(run: RunView): string[] {
  const lines = [
    `run ${run.id}  ${run.integrationId}  ${run.status.toUpperCase()}  (trigger: ${run.trigger}${run.options.full ? ', full' : ''}${run.options.force ? ', force' : ''})`,
    `  queued ${run.queuedAt ?? '-'}  started ${run.startedAt ?? '-'}  finished ${run.finishedAt ?? '-'}${run.durationMs !== null ? `  (${(run.durationMs / 1000).toFixed(1)} s)` : ''}`,
  ];
  if (run.scheduledFor) lines.push(`  scheduled for ${run.scheduledFor}`);
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

export function formatIssues(issues: IssueView[]): string[] {
  if (issues.length === 0) return ['  no issues'];
  const byCode = new Map<string, number>();
  for (const issue of issues) byCode.set(issue.code, (byCode.get(issue.code) ?? 0) + 1);
  return [
    `  ${issues.length} issue(s): ${[...byCode].map(([code, n]) => `${code} ${n}`).join(', ')}`,
    ...issues.map((issue) => `  ${issue.kind.padEnd(20)} ${String(issue.externalId ?? '-').padEnd(12)} ${issue.code.padEnd(20)} ${issue.reason}`),
  ];
}
