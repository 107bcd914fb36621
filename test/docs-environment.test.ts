import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|js|mjs)$/.test(name) ? [full] : [];
  });
}

/**
 * Environment variable names read in a source text: `env.NAME` / `process.env.NAME` /
 * `env?.NAME`, `env['NAME']`, and names kept in constants (`'MAPSYNC_…'`, `'DATABASE_…'`,
 * `'TEST_…'`, proxy variables).
 */
function envNamesIn(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/\benv\??\.([A-Z][A-Z0-9_]*)\b/g)) names.add(m[1] as string);
  for (const m of text.matchAll(/\benv\[\s*['"`]([A-Za-z_][A-Za-z0-9_]*)['"`]\s*\]/g)) names.add(m[1] as string);
  for (const m of text.matchAll(/['"`]((?:MAPSYNC|DATABASE|TEST_DATABASE)_[A-Z0-9_]+)['"`]/g)) names.add(m[1] as string);
  for (const m of text.matchAll(/['"`]((?:https?|all|no)_proxy)['"`]/gi)) names.add((m[1] as string).toUpperCase());
  return [...names];
}

test('the scanner finds every way the sources read a variable', () => {
  const sample = `process.env.LOG_LEVEL; cli.env.MAPSYNC_DEMO; env?.PORT; env['HOST']; const X = 'MAPSYNC_SYNC_PAUSE_IN_MERGE_MS'; ['http_proxy']; env[name]`;
  assert.deepEqual(envNamesIn(sample).sort(), ['HOST', 'HTTP_PROXY', 'LOG_LEVEL', 'MAPSYNC_DEMO', 'MAPSYNC_SYNC_PAUSE_IN_MERGE_MS', 'PORT']);
});

test('every environment variable read in src/ and bin/ is in the README, with its meaning and default', () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Environment'));
  const table = section.slice(0, section.indexOf('\n## '));
  const rows = table.split('\n').filter((line) => line.startsWith('| `'));
  const found = new Map<string, string[]>();
  for (const file of [...sourceFiles(path.join(root, 'src')), ...sourceFiles(path.join(root, 'bin'))]) {
    for (const name of envNamesIn(readFileSync(file, 'utf8'))) found.set(name, [...(found.get(name) ?? []), path.relative(root, file)]);
  }
  assert.ok(found.has('MAPSYNC_PLATFORM_CA_FILE') && found.has('MAPSYNC_DEMO_SIZE') && found.has('DATABASE_URL'), [...found.keys()].join(', '));

  const missing: string[] = [];
  for (const [name, files] of found) {
    const row = rows.find((line) => line.split('|')[1]?.includes(`\`${name}\``));
    // A row is | variable | default | meaning |: both cells filled.
    const cells = row?.split('|').map((cell) => cell.trim());
    if (!row || !cells?.[2] || !cells[3]) missing.push(`${name} (read in ${files.join(', ')})`);
  }
  assert.deepEqual(missing, [], 'add these to the Environment table of README.md');
});
