import type { AppContext } from '../service/app-context.ts';
import type { BackgroundWorker } from '../service/background-worker.ts';
import { Pusher, type PusherOptions } from './pusher.ts';

/** The pusher inside `mapsync serve`: delivers the outbox, woken by each confirmation. */
export function createPusherWorker(ctx: AppContext, options: PusherOptions = {}): BackgroundWorker {
  const pusher = new Pusher(
    { knex: ctx.knex, logger: ctx.logger, metrics: ctx.metrics, integrations: ctx.integrations, adapterFor: ctx.adapterFor },
    options,
  );
  return {
    name: 'pusher',
    wakes: 'pushes',
    async start() {
      pusher.start();
    },
    wake() {
      pusher.wake();
    },
    stop() {
      return pusher.stop();
    },
  };
}
