import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import type { Command } from 'commander';
import { EXIT, type CliRuntime } from '../../src/cli/cli-runtime.ts';
import { createProgram, main } from '../../src/cli/main.ts';
import { PROJECT_ROOT } from '../helpers/child-process.ts';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

function fullName(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Each command's help as `mapsync <command> --help` prints it (text added after the options included). */
function helpOf(command: Command): string {
  const out = new Capture();
  command.configureOutput({ writeOut: (text) => out.write(text), writeErr: (text) => out.write(text) });
  command.outputHelp();
  return out.text;
}

describe('CLI help names only options the command takes', () => {
  const cli: CliRuntime = { stdout: new Capture(), stderr: new Capture(), env: {}, exitCode: EXIT.ok };
  const program = createProgram(cli);
  const commands = allCommands(program);

  test('there are commands to check', () => {
    assert.ok(commands.length >= 9, commands.map(fullName).join(', '));
  });

  for (const command of commands) {
    test(`${fullName(command)} --help`, () => {
      const help = helpOf(command);
      const own = new Set(command.options.map((option) => option.long).filter(Boolean));
      // A command's help lists its sub-commands, whose descriptions may name their options.
      const children = new Set(command.commands.flatMap((child) => child.options.map((option) => option.long)));
      const mentioned = [...help.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)].map((m) => m[0]);
      const unknown = mentioned.filter((name) => !own.has(name) && !children.has(name) && name !== '--help' && name !== '--version');
      assert.deepEqual([...new Set(unknown)], [], `help of \`${fullName(command)}\` names options it does not take:\n${help}`);
      for (const option of command.options) assert.ok(option.description.trim().length > 0, `${option.flags} has no description`);
      assert.ok(command.description().trim().length > 0 || command === program, `${fullName(command)} has no description`);
    });
  }
});

describe('runs show: the options of `runs` are refused rather than ignored', () => {
  for (const args of [
    ['runs', 'show', '00000000-0000-4000-8000-000000000000', '--limit', '5'],
    ['runs', 'show', '00000000-0000-4000-8000-000000000000', '--integration', 'x'],
  ]) {
    test(args.slice(3).join(' '), async () => {
      const stderr = new Capture();
      const code = await main(['node', 'mapsync', ...args], { stdout: new Capture(), stderr, env: {} });
      assert.equal(code, EXIT.usage);
      assert.match(stderr.text, /`runs show` takes/);
    });
  }
});

describe("README's CLI table names only commands and options that exist", () => {
  const cli: CliRuntime = { stdout: new Capture(), stderr: new Capture(), env: {}, exitCode: EXIT.ok };
  const program = createProgram(cli);
  const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| command | does |'));
  const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);

  test('the table lists every command', () => {
    const listed = new Set(rows.map((row) => /^\| `mapsync ([a-z]+(?: [a-z]+)?)/.exec(row)?.[1]?.split(' ')[0]));
    for (const command of program.commands) assert.ok(listed.has(command.name()), `README does not list \`mapsync ${command.name()}\``);
  });

  for (const row of rows) {
    const usage = /^\| `mapsync ([^`]+)`/.exec(row)?.[1] ?? '';
    test(usage, () => {
      let command: Command = program;
      for (const word of usage.split(' ')) {
        const sub = command.commands.find((c) => c.name() === word);
        if (!sub) break;
        command = sub;
      }
      assert.notEqual(command, program, `no command \`mapsync ${usage}\``);
      const options = new Set(command.options.map((o) => o.long));
      for (const [option] of usage.matchAll(/--[a-z][a-z-]*/g)) assert.ok(options.has(option), `\`mapsync ${command.name()}\` takes no ${option}`);
    });
  }
});
