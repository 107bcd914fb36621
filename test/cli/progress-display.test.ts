import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { plainProgress, progressDisplay, terminalProgress } from '../../src/cli/progress/progress-display.ts';
import type { RunProgress } from '../../src/sync/sync-runs.repository.ts';

class Screen extends Writable {
  text = '';
  constructor(readonly isTTY: boolean, readonly columns = 80) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

const pulling = (poles: number, rejected = 0): RunProgress => ({
  phase: 'pulling',
  kinds: { poles: { fetched: poles, rejected }, boxes: { fetched: 3, rejected: 0 } },
});

describe('sync progress display', () => {
  test('on a terminal: one line per kind with counts, redrawn in place', () => {
    const screen = new Screen(true);
    const display = progressDisplay(screen, 'sync campinas');
    display.update(pulling(10));
    display.update({ ...pulling(500, 2), phase: 'merging' });
    display.finish();
    assert.match(screen.text, /sync campinas · pulling/);
    assert.match(screen.text, /poles\s+10 fetched/);
    assert.match(screen.text, /\x1b\[3A/, 'moves up over the previous block');
    assert.match(screen.text, /sync campinas · merging/);
    assert.match(screen.text, /poles\s+500 fetched\s+2 rejected/);
  });

  test('lines are cut to the terminal width', () => {
    const screen = new Screen(true, 30);
    const display = terminalProgress(screen, 'sync a-very-long-integration-name-indeed');
    display.update({ ...pulling(1), message: 'x'.repeat(200) });
    display.finish();
    for (const line of screen.text.split('\n')) assert.ok(line.replace(/\x1b\[\d*[AK]/g, '').length <= 29, line);
  });

  test('not a terminal: plain lines on phase changes, no escape codes', () => {
    const log = new Screen(false);
    const display = progressDisplay(log, 'sync campinas');
    display.update(pulling(1));
    display.update(pulling(2));
    display.update({ ...pulling(9), phase: 'merging' });
    display.finish();
    const lines = log.text.trim().split('\n');
    assert.equal(lines.length, 2, log.text);
    assert.match(lines[0]!, /sync campinas pulling poles=1 boxes=3/);
    assert.match(lines[1]!, /merging poles=9/);
    assert.ok(!log.text.includes('\x1b'));
  });

  test('plain lines also come every few seconds within a long phase, and the last state at the end', () => {
    const log = new Screen(false);
    const display = plainProgress(log, 'sync x', 0);
    display.update(pulling(1));
    display.update(pulling(2));
    assert.equal(log.text.trim().split('\n').length, 2);
    const quiet = new Screen(false);
    const slow = plainProgress(quiet, 'sync x', 60_000);
    slow.update(pulling(1));
    slow.update(pulling(7));
    slow.finish();
    assert.match(quiet.text.trim().split('\n').at(-1)!, /poles=7/);
  });
});
