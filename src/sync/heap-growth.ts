import v8 from 'node:v8';

/**
 * How far V8 lets the heap grow past what the last full collection kept, in percent, while a
 * sync runs in this process.
 *
 * A run allocates far more than it keeps: pages, diagrams and link decisions are streamed to
 * staging a batch at a time, so the live heap stays near 40 MB whatever the network's size
 * (a heap snapshot of a 100k first sync holds nothing that grows with the network). Left to its
 * own heuristics V8 lets the heap reach several times that before it collects in full: a
 * 1M-element first sync peaked at 430 MB of RSS with 290 MB of heap in use, mostly garbage. With the growth bounded the heap stays within about 1.3× the
 * live set plus V8's minimum step, at the cost of more frequent (incremental, concurrent)
 * full collections, each small since little is live.
 */
export const SYNC_HEAP_GROWING_PERCENT = 30;

let applied = false;

/**
 * Bounds the heap's growth for the rest of the process (V8 `--heap-growing-percent`, read at
 * each collection). A process started with its own `--heap-growing-percent` (NODE_OPTIONS or
 * the command line) keeps it.
 */
export function boundHeapGrowth(): void {
  if (applied) return;
  applied = true;
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg));
  if (!given) v8.setFlagsFromString(`--heap-growing-percent=${SYNC_HEAP_GROWING_PERCENT}`);
}
