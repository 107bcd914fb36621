import type { Writable } from 'node:stream';
import type { RunProgress } from '../../sync/sync-runs.repository.ts';

export interface ProgressDisplay {
  update(progress: RunProgress): void;
  /** Draws the last state and leaves the cursor below it. */
  finish(): void;
}

type Stream = Writable & { isTTY?: boolean; columns?: number };

const KIND_WIDTH = 24;

function elapsed(startedAt: number): string {
  return `${((Date.now() - startedAt) / 1000).toFixed(1)}s`;
}

function kindLines(progress: RunProgress): string[] {
  return Object.entries(progress.kinds).map(
    ([kind, counts]) =>
      `  ${kind.padEnd(KIND_WIDTH)} ${String(counts.fetched).padStart(8)} fetched${counts.rejected > 0 ? `  ${counts.rejected} rejected` : ''}`,
  );
}

/**
 * On a terminal: a block of lines redrawn in place (phase, then one line per element
 * kind with counts), at most ten times a second.
 */
export function terminalProgress(stream: Stream, title: string): ProgressDisplay {
  const startedAt = Date.now();
  let drawnLines = 0;
  let last: RunProgress | null = null;
  let lastDraw = 0;
  const draw = () => {
    if (!last) return;
    const width = Math.max(20, (stream.columns ?? 100) - 1);
    const lines = [
      `${title} · ${last.phase} · ${elapsed(startedAt)}${last.message ? ` · ${last.message}` : ''}`,
      ...kindLines(last),
    ].map((line) => line.slice(0, width));
    let out = drawnLines > 0 ? `\x1b[${drawnLines}A` : '';
    for (const line of lines) out += `\x1b[2K${line}\n`;
    stream.write(out);
    drawnLines = lines.length;
    lastDraw = Date.now();
  };
  return {
    update(progress) {
      last = progress;
      if (Date.now() - lastDraw >= 100) draw();
    },
    finish() {
      draw();
    },
  };
}

/** Not a terminal (a log, a pipe): one plain line per phase change, and every few seconds. */
export function plainProgress(stream: Stream, title: string, everyMs = 2_000): ProgressDisplay {
  const startedAt = Date.now();
  let lastPhase: string | null = null;
  let lastAt = 0;
  let last: RunProgress | null = null;
  let lastPrinted: RunProgress | null = null;
  const print = (progress: RunProgress) => {
    const kinds = Object.entries(progress.kinds)
      .map(([kind, c]) => `${kind}=${c.fetched}${c.rejected > 0 ? ` (${c.rejected} rejected)` : ''}`)
      .join(' ');
    stream.write(`[${elapsed(startedAt)}] ${title} ${progress.phase}${kinds ? ` ${kinds}` : ''}${progress.message ? ` - ${progress.message}` : ''}\n`);
    lastPrinted = progress;
    lastAt = Date.now();
  };
  return {
    update(progress) {
      last = progress;
      if (progress.phase !== lastPhase || Date.now() - lastAt >= everyMs) {
        lastPhase = progress.phase;
        print(progress);
      }
    },
    finish() {
      if (last && last !== lastPrinted) print(last);
    },
  };
}

export function progressDisplay(stream: Stream, title: string): ProgressDisplay {
  return stream.isTTY ? terminalProgress(stream, title) : plainProgress(stream, title);
}
