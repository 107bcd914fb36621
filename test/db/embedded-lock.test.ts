import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { claimDataDir, EmbeddedDatabaseBusyError } from '../../src/db/embedded-lock.ts';

describe('embedded data folder lock', () => {
  const dataDir = () => path.join(mkdtempSync(path.join(tmpdir(), 'mapsync-lock-')), 'pglite');

  test('refuses a folder owned by a live process, naming it', () => {
    const dir = dataDir();
    writeFileSync(`${dir}.lock`, String(process.ppid));
    assert.throws(() => claimDataDir(dir), (error: unknown) => {
      assert.ok(error instanceof EmbeddedDatabaseBusyError);
      assert.equal(error.ownerPid, process.ppid);
      assert.match(error.message, /in use by process \d+/);
      return true;
    });
  });

  test('takes over a lock left by a dead process, and releases it', () => {
    const dir = dataDir();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(`${dir}.lock`, dead);
    const release = claimDataDir(dir);
    assert.equal(readFileSync(`${dir}.lock`, 'utf8'), String(process.pid));
    release();
    assert.equal(existsSync(`${dir}.lock`), false);
  });
});
