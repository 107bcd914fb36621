#!/usr/bin/env node
// Runs the whole suite. With TEST_DATABASE_URL set, tests use that PostgreSQL/PostGIS;
// without it, an embedded PostGIS is started once here and shared by every test file.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'fixtures' || name === 'helpers' ? [] : findTests(full);
    return name.endsWith('.test.ts') ? [full] : [];
  });
}

const args = process.argv.slice(2);
const files = (args.length > 0 ? args.map((f) => path.resolve(f)) : findTests(path.join(root, 'test'))).sort();

let embedded = null;
const env = { ...process.env };
if (!env.TEST_DATABASE_URL) {
  register();
  const { startEmbeddedPostgis } = await import('../src/db/embedded-postgis.ts');
  process.stdout.write('TEST_DATABASE_URL is unset: starting the embedded PostGIS for the tests\n');
  const sharedDir = path.join(root, '.data', 'test-pglite');
  try {
    embedded = await startEmbeddedPostgis({ dataDir: sharedDir });
  } catch (error) {
    const busy = error.name === 'EmbeddedDatabaseBusyError';
    process.stdout.write(`${sharedDir} cannot be used (${error.message.split('\n')[0]}); starting a fresh one\n`);
    // Busy: another test run owns it, so this run gets a folder of its own. Damaged: start it anew.
    const dataDir = busy ? mkdtempSync(path.join(tmpdir(), 'mapsync-test-pglite-')) : sharedDir;
    if (!busy) rmSync(sharedDir, { recursive: true, force: true });
    embedded = await startEmbeddedPostgis({ dataDir });
    if (busy) {
      const close = embedded.close;
      embedded.close = async () => {
        await close();
        rmSync(dataDir, { recursive: true, force: true });
      };
    }
  }
  env.TEST_DATABASE_URL = embedded.url;
  env.TEST_DATABASE_EMBEDDED = '1';
}

// The embedded database serves one session at a time, so its test files run one after another.
const concurrency = embedded ? 1 : 2;
// Readable output on screen; a TAP copy to count the results for the closing line.
const tapFile = path.join(mkdtempSync(path.join(tmpdir(), 'mapsync-tests-')), 'results.tap');
const child = spawn(
  process.execPath,
  [
    '--import', 'tsx', '--test', `--test-concurrency=${concurrency}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  { stdio: 'inherit', env, cwd: root },
);
const forward = (signal) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
if (embedded) await embedded.close();
process.stdout.write(`${summaryLine(tapFile) ?? 'tests: no results were recorded'}\n`);
process.exit(code);

function summaryLine(file) {
  let tap;
  try {
    tap = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  // The last top-level counters are the run's totals.
  const count = (name) => {
    const matches = [...tap.matchAll(new RegExp(`^# ${name} (\\d+)$`, 'gm'))];
    return matches.length > 0 ? Number(matches.at(-1)[1]) : 0;
  };
  return `tests: ${count('pass')} passed, ${count('fail') + count('cancelled')} failed, ${count('skipped')} skipped`;
}
