import { createPusherWorker } from '../push/pusher.worker.ts';
import { createScheduler } from '../scheduler/scheduler.ts';
import type { WorkerFactory } from './background-worker.ts';
import { createRunWorker } from './run-worker.ts';

/** The workers `mapsync serve` runs, in start order. */
export const workerFactories: WorkerFactory[] = [(ctx) => createRunWorker(ctx), (ctx) => createScheduler(ctx), (ctx) => createPusherWorker(ctx)];
