import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.loader.ts';
import { ConfigError } from '../../src/config/config-error.ts';

/** One integration whose `project`/`scope`/extra lines are given as typed in the file. */
function yamlWith(lines: Record<string, string>): string {
  const fields: Record<string, string> = {
    id: 'rede-sul',
    platform: 'geogrid',
    apiUrl: 'https://eros.geogridmaps.com.br/acme',
    token: 'tok',
    project: '{ link: "Centro" }',
    ...lines,
  };
  return 'integrations:\n  - ' + Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('\n    ') + '\n';
}

function load(text: string, file = 'isp.yaml') {
  const dir = mkdtempSync(path.join(tmpdir(), 'mapsync-typed-'));
  writeFileSync(path.join(dir, file), text);
  return loadConfig(dir, {});
}

function problemsOf(text: string, file = 'isp.yaml'): string[] {
  try {
    load(text, file);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`);
  }
  assert.fail('expected a ConfigError');
}

describe('config values YAML would read differently from what was typed', () => {
  // [as typed, the problem (null: loads), the value loaded]
  const linkCases: [string, RegExp | null, string | null][] = [
    ['0101', /project\.link: is written 0101, which YAML reads as the number 101; quote it to keep it as typed: link: "0101"/, null],
    ['2024.10', /project\.link: is written 2024\.10, which YAML reads as the number 2024\.1; quote it .*link: "2024\.10"/, null],
    ['1e3', /is written 1e3, which YAML reads as the number 1000; .*link: "1e3"/, null],
    ['0o17', /is written 0o17, which YAML reads as the number 15; .*link: "0o17"/, null],
    ['0x1F', /is written 0x1F, which YAML reads as the number 31; .*link: "0x1F"/, null],
    ['+101', /is written \+101, which YAML reads as the number 101/, null],
    ['.inf', /is written \.inf, which YAML reads as the number Infinity/, null],
    ['~', /is written ~, which YAML reads as no value \(null\); .*link: "~"/, null],
    ['true', /is written true, which YAML reads as the boolean true; .*link: "true"/, null],
    ['101', null, '101'],
    ['0', null, '0'],
    ['"0101"', null, '0101'],
    ["'2024.10'", null, '2024.10'],
    ['Rede Sul', null, 'Rede Sul'],
    ['yes', null, 'yes'],
    ['2024-10-01', null, '2024-10-01'],
  ];
  for (const [typed, problem, value] of linkCases) {
    test(`project: { link: ${typed} }`, () => {
      const text = yamlWith({ project: `{ link: ${typed} }` });
      if (problem) {
        const problems = problemsOf(text);
        assert.equal(problems.length, 1, problems.join('\n'));
        assert.match(problems[0]!, problem);
        assert.match(problems[0]!, /^isp\.yaml: integrations\[0\]\.project\.link: /);
      } else {
        const project = load(text).config.integrations[0]!.project;
        assert.deepEqual(project, { link: value });
      }
    });
  }

  test('folders: [0101, 007] are refused one by one; [101, "007", Sul] load as typed', () => {
    const problems = problemsOf(yamlWith({ scope: '{ folders: [0101, 007, 12] }' }));
    assert.deepEqual(problems, [
      'isp.yaml: integrations[0].scope.folders[0]: is written 0101, which YAML reads as the number 101; quote it to keep it as typed: "0101" (a plain number such as 101 is taken as a platform id)',
      'isp.yaml: integrations[0].scope.folders[1]: is written 007, which YAML reads as the number 7; quote it to keep it as typed: "007" (a plain number such as 101 is taken as a platform id)',
    ]);
    const scope = load(yamlWith({ scope: '{ folders: [101, "007", Sul] }' })).config.integrations[0]!.scope;
    assert.deepEqual(scope.folders, ['101', '007', 'Sul']);
  });

  test('a name to create is always text: create: 2024.10 and create: 101 are refused', () => {
    assert.deepEqual(problemsOf(yamlWith({ project: '{ create: 2024.10 }' })), [
      'isp.yaml: integrations[0].project.create: is written 2024.10, which YAML reads as the number 2024.1; quote it to keep it as typed: create: "2024.10" (a name is always text)',
    ]);
    assert.match(problemsOf(yamlWith({ project: '{ create: 101 }' }))[0]!, /create: "101" \(a name is always text\)/);
    assert.deepEqual(load(yamlWith({ project: '{ create: "2024.10" }' })).config.integrations[0]!.project, { create: '2024.10' });
  });

  test('id: 2024 says it must be text and how to quote it, not "is required"', () => {
    assert.deepEqual(problemsOf(yamlWith({ id: '2024' })), [
      'isp.yaml: integrations[0].id: must be text, but YAML reads 2024 as the number 2024; write it in quotes: id: "2024"',
    ]);
    assert.deepEqual(problemsOf(yamlWith({ token: '~' })), [
      'isp.yaml: integrations[0].token: must be text, but YAML reads ~ as no value (null); write it in quotes: token: "~"',
    ]);
    assert.deepEqual(problemsOf(yamlWith({ timezone: '2024' })), [
      'isp.yaml: integrations[0].timezone: must be text, but YAML reads 2024 as the number 2024; write it in quotes: timezone: "2024"',
    ]);
    const missing = problemsOf('integrations:\n  - platform: geogrid\n    apiUrl: https://x.example\n    token: t\n    project: { link: A }\n');
    assert.deepEqual(missing, ['isp.yaml: integrations[0].id: is required'], 'a key left out is still "required"');
  });

  test('in JSON too a number where text is wanted is not "is required"', () => {
    const json = JSON.stringify({ integrations: [{ id: 2024, platform: 'geogrid', apiUrl: 'https://x.example', token: 't', project: { link: 101 } }] });
    assert.deepEqual(problemsOf(json, 'isp.json'), ['isp.json: integrations[0].id: must be text, not the number 2024; write it in quotes: "2024"']);
  });

  test("a value of the wrong kind is said in the file's words, never zod's \"Invalid input\"", () => {
    assert.deepEqual(problemsOf(yamlWith({ elements: 'poles' })), [
      'isp.yaml: integrations[0].elements: must be a list (one "- item" per line, or [a, b]), not "poles"',
    ]);
    const problems = problemsOf(yamlWith({ scope: '{ folders: Centro }', area: '[1, 2]' }));
    assert.ok(problems.every((problem) => !problem.includes('Invalid input')), problems.join('\n'));
  });

  test('enabled: yes says true or false, in an integration and in the scheduler', () => {
    assert.deepEqual(problemsOf(yamlWith({ enabled: 'yes' })), ['isp.yaml: integrations[0].enabled: must be true or false (YAML 1.2 reads yes as text)']);
    assert.deepEqual(problemsOf(`${yamlWith({})}scheduler:\n  enabled: off\n`), ['isp.yaml: scheduler.enabled: must be true or false (YAML 1.2 reads off as text)']);
  });

  test('an unquoted schedule: */15 * * * * names the file and line and says to quote it', () => {
    const problems = problemsOf(yamlWith({ schedule: '*/15 * * * *' }));
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0]!, /^isp\.yaml: : cannot be parsed: .*line 7, column \d+; schedule's value starts with "\*", which YAML reads as a reference to an anchor \(an alias\): quote the cron expression, schedule: "\*\/15 \* \* \* \*"$/);
    assert.equal(load(yamlWith({ schedule: '"*/15 * * * *"' })).config.integrations[0]!.schedule, '*/15 * * * *');
  });

  test('a lone alias value (schedule: *) names its line and says to quote it', () => {
    const problems = problemsOf(yamlWith({ schedule: '*nightly' }));
    assert.match(problems[0]!, /cannot be parsed: .*at line 7; schedule's value starts with "\*".*schedule: "\*nightly"/);
  });
});
