export type { SyncContext } from './sync-context.ts';
export {
  RunAlreadyActiveError,
  ensureIntegrations,
  getRun,
  listRuns,
  queueRun,
  reapStaleRuns,
  runIssues,
  DEFAULT_STALE_AFTER_MS,
  type KindCounts,
  type RunIssue,
  type RunPhase,
  type RunProgress,
  type RunRecord,
  type RunStatus,
  type RunTrigger,
} from './sync-runs.repository.ts';
export { executeRun, HEARTBEAT_EVERY_MS, type ExecuteRunHooks } from './sync-engine.ts';
