#!/usr/bin/env node
// Runs the compiled CLI in dist/ (built by `npm install`/`npm ci` through `prepare`, or by
// `npm run build`) when it is there and no file of src/ or migrations/ is newer; otherwise the
// TypeScript sources through tsx, which takes a second or two longer to start.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// `mapsync runs show … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist', '.build-stamp');

function newestChange(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestChange(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function compiledIsCurrent() {
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  return newestChange(path.join(root, 'src')) <= built && newestChange(path.join(root, 'migrations')) <= built;
}

let main;
if (compiledIsCurrent()) {
  ({ main } = await import('../dist/src/cli/main.js'));
} else {
  process.stderr.write(
    existsSync(path.join(root, 'dist'))
      ? 'mapsync: dist/ is older than src/, running the sources through tsx (`npm run build` refreshes it)\n'
      : 'mapsync: no compiled build in dist/, running the sources through tsx (`npm run build` makes one)\n',
  );
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
