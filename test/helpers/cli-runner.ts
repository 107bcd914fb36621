import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.ts';

/** A stream that keeps what the CLI writes; not a terminal, so no progress display. */
export class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

/** Runs `mapsync <args>` in this process, with LOG_LEVEL=error: its exit code and what it printed. */
export async function mapsync(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(['node', 'mapsync', ...args], { stdout, stderr, env: { ...env, LOG_LEVEL: 'error' } });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
