import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.ts';

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  const code = await main(['node', 'mapsync', ...args], { stdout, stderr, env });
  return { code, out, err };
}

function configDir(yaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mapsync-config-check-'));
  writeFileSync(path.join(dir, 'isp.yaml'), yaml);
  return dir;
}

const valid = (platform: string) => `integrations:
  - id: centro
    platform: ${platform}
    apiUrl: https://eros.geogridmaps.com.br/acme
    token: \${TOKEN}
    project: { link: Centro }
`;

describe('mapsync config check', () => {
  test('a valid config exits 0 and lists the integrations', async () => {
    const result = await run(['config', 'check', '--dir', configDir(valid('geogrid'))], { TOKEN: 'secret-token-1' });
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /is valid \(1 file\(s\)\)/);
    assert.match(result.out, /centro: geogrid, service_splitters, 0 4 \* \* \* \(America\/Sao_Paulo\)/);
    assert.equal(result.err, '');
  });

  test('a bad config exits 2, names each bad key by file and path, and never shows the token', async () => {
    const dir = configDir(valid('arcgis').replace('https://', 'http://'));
    const result = await run(['config', 'check', '--dir', dir], { TOKEN: 'secret-token-2' });
    assert.equal(result.code, 2);
    assert.match(result.err, /isp\.yaml: integrations\[0\]\.platform: must be one of: geogrid, ozmap, simulator/);
    assert.match(result.err, /isp\.yaml: integrations\[0\]\.apiUrl: must start with https:\/\//);
    assert.ok(!result.err.includes('secret-token-2'));

    const json = await run(['config', 'check', '--dir', dir, '--json'], { TOKEN: 'secret-token-2' });
    assert.equal(json.code, 2);
    const parsed = JSON.parse(json.out) as { valid: boolean; problems: { file: string; path: string }[] };
    assert.equal(parsed.valid, false);
    assert.deepEqual(parsed.problems.map((p) => `${p.file} ${p.path}`).sort(), ['isp.yaml integrations[0].apiUrl', 'isp.yaml integrations[0].platform']);
  });

  test('ozmap is valid config with no warning', async () => {
    const result = await run(['config', 'check', '--dir', configDir(valid('ozmap'))], { TOKEN: 't' });
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /centro: ozmap, service_splitters/);
    assert.equal(result.err, '');
  });
});
