import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The abort signal of the work that is calling the platform (a sync run), carried to every
 * platform request made inside it without threading it through each adapter method. When
 * it aborts, requests in flight are broken off and none is started or retried.
 */
const scope = new AsyncLocalStorage<AbortSignal>();

export function withPlatformCallSignal<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  return signal ? scope.run(signal, work) : work();
}

export function currentPlatformCallSignal(): AbortSignal | undefined {
  return scope.getStore();
}
