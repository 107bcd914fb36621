#!/usr/bin/env node
// Compiles src/ and migrations/ to dist/ (tsconfig.build.json) and copies the files that are not
// TypeScript (the dashboard), so the CLI starts without compiling TypeScript on every call.
// Run by `npm run build` and by npm's `prepare` (npm install, npm ci). A build that cannot run
// or fails leaves no dist/ and does not fail the install: bin/mapsync.js then runs the sources
// through tsx. The new build is made beside dist/ and swapped in whole, so a mapsync process
// running from dist/ meanwhile (npm exec runs `prepare` too) never meets a half-built folder.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const next = path.join(root, `dist.next-${process.pid}`);
const old = path.join(root, `dist.old-${process.pid}`);

function giveUp(reason) {
  rmSync(next, { recursive: true, force: true });
  rmSync(dist, { recursive: true, force: true });
  process.stderr.write(`mapsync: no compiled build (${reason}); the CLI will run the TypeScript sources through tsx\n`);
  process.exit(0);
}

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  giveUp('typescript is not installed');
}
rmSync(next, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', next], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) giveUp(`tsc -p tsconfig.build.json exited with ${result.status ?? result.signal}`);

function copyAssets(from, to) {
  for (const name of readdirSync(from)) {
    const source = path.join(from, name);
    const target = path.join(to, name);
    if (statSync(source).isDirectory()) copyAssets(source, target);
    else if (!name.endsWith('.ts')) cpSync(source, target);
  }
}
copyAssets(path.join(root, 'src'), path.join(next, 'src'));
// bin/mapsync.js runs dist/ only while no source is newer than this file.
writeFileSync(path.join(next, '.build-stamp'), `${new Date().toISOString()}\n`);
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
