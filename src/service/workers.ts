import type { WorkerFactory } from './background-worker.ts';

/** The workers `mapsync serve` runs, in start order. */
export const workerFactories: WorkerFactory[] = [];
