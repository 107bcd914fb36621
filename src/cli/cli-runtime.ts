import type { Writable } from 'node:stream';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, runFailed: 1, usage: 2 } as const;

/** Where a command writes, and what it reads: injectable so tests run commands in-process. */
export interface CliRuntime {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  exitCode: number;
}

export function printJson(cli: CliRuntime, value: unknown): void {
  cli.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function println(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}

/** Thrown by a command for a usage or configuration problem (exit 2). */
export class UsageError extends Error {}
