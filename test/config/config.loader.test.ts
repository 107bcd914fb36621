import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.loader.ts';
import { ConfigError } from '../../src/config/config-error.ts';

const SECRET = 'tok-3f9a-very-secret';

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mapsync-config-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const integration = (overrides: Record<string, string> = {}) => {
  const fields: Record<string, string> = {
    id: 'geogrid-centro',
    platform: 'geogrid',
    apiUrl: 'https://eros.geogridmaps.com.br/acme',
    token: '${GEOGRID_TOKEN}',
    project: '{ link: "Centro" }',
    ...overrides,
  };
  return '  - ' + Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('\n    ');
};

function problemsOf(dir: string, env: Record<string, string> = { GEOGRID_TOKEN: SECRET }) {
  try {
    loadConfig(dir, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.ok(!error.message.includes(SECRET), 'the token never appears in a config error');
    return error.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`);
  }
  assert.fail('expected a ConfigError');
}

describe('config loader', () => {
  test('a valid YAML file loads with defaults and env substitution', () => {
    const dir = dirWith({ 'isp.yaml': `integrations:\n${integration()}\n`, 'examples/ignored.yaml': 'nonsense: [' });
    const { config, files } = loadConfig(dir, { GEOGRID_TOKEN: SECRET });
    assert.deepEqual(files, ['isp.yaml']);
    const [first] = config.integrations;
    assert.equal(first?.token, SECRET);
    assert.deepEqual(first?.elements, ['service_splitters']);
    assert.equal(first?.schedule, '0 4 * * *');
    assert.equal(first?.timezone, 'America/Sao_Paulo');
    assert.deepEqual(first?.http, { concurrency: 5, requestsPerMinute: 300, timeoutMs: 15000, retries: 4 });
    assert.equal(first?.sync.removalGuardPercent, 30);
  });

  test('JSON files load too', () => {
    const dir = dirWith({
      'a.json': JSON.stringify({ integrations: [{ id: 'a', platform: 'ozmap', apiUrl: 'https://x.ozmap.com.br', token: 't', project: { create: 'Rede Norte' } }] }),
    });
    assert.equal(loadConfig(dir, {}).config.integrations[0]?.platform, 'ozmap');
  });

  test('ozmap takes a token, or login and password from the environment; never neither or both', () => {
    const ozmap = (fields: Record<string, string>) => {
      const all: Record<string, string> = { id: 'oz', platform: 'ozmap', apiUrl: 'https://acme.ozmap.com.br', project: '{ link: "Centro" }', ...fields };
      return dirWith({ 'oz.yaml': `integrations:\n  - ${Object.entries(all).map(([k, v]) => `${k}: ${v}`).join('\n    ')}\n` });
    };
    const env = { OZ_KEY: SECRET, OZ_USER: 'mapsync', OZ_PASSWORD: 'pw-very-secret' };
    assert.equal(loadConfig(ozmap({ token: '${OZ_KEY}' }), env).config.integrations[0]?.token, SECRET);
    const byLogin = loadConfig(ozmap({ login: '${OZ_USER}', password: '${OZ_PASSWORD}' }), env).config.integrations[0];
    assert.deepEqual([byLogin?.login, byLogin?.password, byLogin?.token], ['mapsync', 'pw-very-secret', undefined]);

    assert.deepEqual(problemsOf(ozmap({}), env), ['oz.yaml: integrations[0].token: is required (an ozmap API key), or give login and password instead']);
    assert.deepEqual(problemsOf(ozmap({ token: '${OZ_KEY}', login: '${OZ_USER}', password: '${OZ_PASSWORD}' }), env), [
      'oz.yaml: integrations[0].login: cannot be given with token: ozmap takes a token (API key) or login and password, not both',
    ]);
    assert.deepEqual(problemsOf(ozmap({ login: '${OZ_USER}' }), env), ['oz.yaml: integrations[0].password: is required with login']);
    assert.deepEqual(problemsOf(ozmap({ password: '${OZ_PASSWORD}' }), env), ['oz.yaml: integrations[0].login: is required with password']);
    assert.ok(problemsOf(ozmap({ login: '${OZ_USER}', password: '${OZ_UNSET}' }), env).includes('oz.yaml: integrations[0].password: environment variable OZ_UNSET is not set'));
  });

  test('geogrid still requires its token, and takes no login', () => {
    const without = dirWith({ 'isp.yaml': `integrations:\n${integration({ token: '""' }).replace('token: ""\n    ', '')}\n` });
    assert.deepEqual(problemsOf(without), ['isp.yaml: integrations[0].token: is required']);
    const withLogin = dirWith({ 'isp.yaml': `integrations:\n${integration({ login: 'x' })}\n` });
    assert.deepEqual(problemsOf(withLogin), ['isp.yaml: integrations[0].login: is for platform ozmap only; geogrid takes a token']);
  });

  test('an apiUrl that is not https names the key', () => {
    const dir = dirWith({ 'isp.yaml': `integrations:\n${integration({ apiUrl: 'http://eros.geogridmaps.com.br/acme' })}\n` });
    assert.deepEqual(problemsOf(dir), ['isp.yaml: integrations[0].apiUrl: must start with https:// (the platform token must never travel in clear text)']);
  });

  test('an unknown platform names the key', () => {
    const dir = dirWith({ 'isp.yaml': `integrations:\n${integration({ platform: 'arcgis' })}\n` });
    assert.deepEqual(problemsOf(dir), ['isp.yaml: integrations[0].platform: must be one of: geogrid, ozmap, simulator']);
  });

  test('a bad cron expression and a bad time zone', () => {
    const dir = dirWith({ 'isp.yaml': `integrations:\n${integration({ schedule: '"61 4 * * *"', timezone: 'America/Recife_Sul' })}\n` });
    assert.deepEqual(problemsOf(dir), [
      'isp.yaml: integrations[0].schedule: is not a valid cron expression (e.g. "0 4 * * *"): Invalid value for minute: 61',
      'isp.yaml: integrations[0].timezone: is not a known IANA time zone (e.g. "America/Sao_Paulo")',
    ]);
  });

  test('a duplicate integration id, across files', () => {
    const dir = dirWith({
      'a.yaml': `integrations:\n${integration()}\n`,
      'b.yaml': `integrations:\n${integration({ project: '{ link: "Norte" }' })}\n`,
    });
    assert.deepEqual(problemsOf(dir), ['b.yaml: integrations[0].id: duplicate integration id "geogrid-centro" (also at integrations[0])']);
  });

  test('an unknown element kind', () => {
    const dir = dirWith({ 'isp.yaml': `integrations:\n${integration({ elements: '[service_splitters, cables]' })}\n` });
    assert.deepEqual(problemsOf(dir), [
      'isp.yaml: integrations[0].elements[1]: must be one of: service_splitters, poles, boxes, distribution_splitters, customers',
    ]);
  });

  test('a missing token variable', () => {
    const dir = dirWith({ 'isp.yaml': `integrations:\n${integration()}\n` });
    const problems = problemsOf(dir, {});
    assert.ok(problems.includes('isp.yaml: integrations[0].token: environment variable GEOGRID_TOKEN is not set'), problems.join('\n'));
  });

  test('two integrations claiming the same project', () => {
    const dir = dirWith({ 'isp.yaml': `integrations:\n${integration()}\n${integration({ id: 'other' })}\n` });
    assert.deepEqual(problemsOf(dir), [
      'isp.yaml: integrations[1].project: project "Centro" on https://eros.geogridmaps.com.br/acme is already claimed by integrations[0]; each project belongs to one integration',
    ]);
  });

  test('unparseable files and unknown keys are reported, all at once', () => {
    const dir = dirWith({ 'a.yaml': 'integrations: [', 'b.yaml': `integrations:\n${integration({ colour: 'blue' })}\nfoo: 1\n` });
    const problems = problemsOf(dir);
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0]!, /^a\.yaml: : cannot be parsed/);
    assert.ok(problems.some((p) => p.startsWith('b.yaml: foo: is not a known setting')));
    assert.ok(problems.some((p) => p.startsWith('b.yaml: integrations[0]') && p.includes('colour')));
  });

  test('runs.concurrency is read from any one file, and a bad value names its file and key', () => {
    const good = dirWith({ 'isp.yaml': `integrations:\n${integration()}\n`, 'process.yaml': 'runs:\n  concurrency: 4\n' });
    assert.deepEqual(loadConfig(good, { GEOGRID_TOKEN: SECRET }).config.runs, { concurrency: 4 });
    const bad = dirWith({ 'isp.yaml': `integrations:\n${integration()}\nruns:\n  concurrency: 0\n`, 'more.yaml': 'runs:\n  concurrency: 2\n' });
    assert.deepEqual(problemsOf(bad), ['more.yaml: runs: is already set in isp.yaml']);
    const zero = dirWith({ 'isp.yaml': `integrations:\n${integration()}\nruns:\n  concurrency: 0\n` });
    assert.deepEqual(problemsOf(zero), [
      'isp.yaml: runs.concurrency: must be at least 1: a process that runs no sync would only queue them (set scheduler.enabled: false to stop scheduling instead)',
    ]);
  });

  test('no config folder means no integrations', () => {
    assert.deepEqual(loadConfig('/nonexistent/mapsync-config', {}).config.integrations, []);
  });
});
