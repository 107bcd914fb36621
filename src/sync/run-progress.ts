import type pino from 'pino';
import type { RunPhase, RunProgress } from './sync-runs.repository.ts';

const REPORT_EVERY_MS = 1000;
const LOG_EVERY_MS = 5000;

/** Live progress of a run: handed to the caller's hook, logged, and stored by the heartbeat. */
export class RunProgressTracker {
  private progress: RunProgress = { phase: 'pulling', kinds: {} };
  private lastReport = 0;
  private lastLog = 0;
  private moved = Date.now();

  constructor(
    private readonly logger: pino.Logger,
    private readonly fields: { runId: string; integration: string },
    private readonly onProgress?: (progress: RunProgress) => void,
  ) {}

  get current(): RunProgress {
    return this.progress;
  }

  /** When the run last moved (a phase began, records came in or were rejected), ms since the epoch. */
  get movedAt(): number {
    return this.moved;
  }

  phase(phase: RunPhase, message?: string): void {
    this.moved = Date.now();
    this.progress = { ...this.progress, phase, ...(message ? { message } : { message: undefined }) };
    if (message === undefined) delete this.progress.message;
    this.logger.info({ ...this.fields, phase, ...(message ? { detail: message } : {}) }, `sync ${phase}`);
    this.report(true);
  }

  fetched(kind: string, count: number): void {
    // A phase's opening message ("resolving the project") is over once data flows.
    if (this.progress.message !== undefined) this.progress = { phase: this.progress.phase, kinds: this.progress.kinds };
    this.moved = Date.now();
    this.entry(kind).fetched += count;
    this.report(false, kind);
  }

  rejected(kind: string, count: number): void {
    if (count === 0) return;
    this.moved = Date.now();
    this.entry(kind).rejected += count;
    this.report(false, kind);
  }

  private entry(kind: string): { fetched: number; rejected: number } {
    let entry = this.progress.kinds[kind];
    if (!entry) {
      entry = { fetched: 0, rejected: 0 };
      this.progress = { ...this.progress, kinds: { ...this.progress.kinds, [kind]: entry } };
    }
    return entry;
  }

  private report(force: boolean, kind?: string): void {
    const now = Date.now();
    if (kind !== undefined && now - this.lastLog >= LOG_EVERY_MS) {
      this.lastLog = now;
      const entry = this.progress.kinds[kind];
      this.logger.info(
        { ...this.fields, phase: this.progress.phase, kind, fetched: entry?.fetched ?? 0, rejected: entry?.rejected ?? 0 },
        'sync progress',
      );
    }
    if (!this.onProgress || (!force && now - this.lastReport < REPORT_EVERY_MS)) return;
    this.lastReport = now;
    try {
      this.onProgress(structuredClone(this.progress));
    } catch (error) {
      this.logger.warn({ ...this.fields, err: error }, 'progress hook failed');
    }
  }
}
