import type { AppContext } from './app-context.ts';

/** Long-lived work inside `mapsync serve` (scheduler, run worker, pusher). */
export interface BackgroundWorker {
  readonly name: string;
  start(): Promise<void>;
  /** Stops taking new work and waits for work in hand to finish or be released. */
  stop(): Promise<void>;
  wake?(): void;
  /** Which AppContext.wake signal calls wake(). */
  readonly wakes?: 'runs' | 'pushes';
}

export type WorkerFactory = (ctx: AppContext) => BackgroundWorker;
