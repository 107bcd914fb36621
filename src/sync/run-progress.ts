import type pino from 'pino';
import type { RunPhase, RunProgress } from './sync-runs.repository.ts';

export const REPORT_EVERY_MS = 1000;
const LOG_EVERY_MS = 5000;

/**
 * Live progress of a run: handed to the caller's hook, logged, and stored by the heartbeat.
 * While ticking (see startTicking) the hook hears from it at least once a second, even when a
 * long platform read or database step moves no count, so a display never looks frozen.
 */
export class RunProgressTracker {
  private progress: RunProgress = { phase: 'pulling', kinds: {} };
  private lastReport = 0;
  private lastLog = 0;
  private moved = Date.now();
  /** The message is the phase's opening one ("resolving the project"), over once data flows. */
  private openingMessage = false;

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
    this.openingMessage = message !== undefined;
    this.logger.info({ ...this.fields, phase, ...(message ? { detail: message } : {}) }, `sync ${phase}`);
    this.report(true);
  }

  fetched(kind: string, count: number): void {
    this.moved = Date.now();
    if (this.openingMessage) this.clearMessage();
    this.entry(kind).fetched += count;
    this.report(false, kind);
  }

  /** What the phase is doing now, with its own count ("reading equipment: 120 of 900 containers"). */
  detail(message: string | null): void {
    this.moved = Date.now();
    if (message === null) this.clearMessage();
    else this.progress = { ...this.progress, message };
    this.openingMessage = false;
    this.report(false);
  }

  /**
   * Hands the current progress to the hook every `everyMs` until the returned function is
   * called, whether or not anything moved (the display's clock and the phase stay current).
   */
  startTicking(everyMs = REPORT_EVERY_MS): () => void {
    if (!this.onProgress) return () => undefined;
    const checkEveryMs = Math.max(10, Math.floor(everyMs / 5));
    const timer = setInterval(() => {
      if (Date.now() - this.lastReport >= everyMs - checkEveryMs) this.report(true);
    }, checkEveryMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private clearMessage(): void {
    this.progress = { phase: this.progress.phase, kinds: this.progress.kinds };
    this.openingMessage = false;
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
