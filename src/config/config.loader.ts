import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, formatPath, type ConfigProblem } from './config-error.ts';
import { configSchema, type MapsyncConfig } from './config.schema.ts';
import { readYamlFile, type TypedScalar } from './yaml-source.ts';

export interface LoadedConfig {
  config: MapsyncConfig;
  /** Config files read, relative to the folder. */
  files: string[];
  directory: string;
}

const CONFIG_FILE = /\.(ya?ml|json)$/i;
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function defaultConfigDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.MAPSYNC_CONFIG_DIR ?? 'config');
}

/**
 * A config folder named on purpose (MAPSYNC_CONFIG_DIR, --dir) must exist: a typo would
 * otherwise read as "no integrations" and silently change what mapsync does.
 * @throws ConfigError when the folder does not exist or is not a folder.
 */
export function requireConfigDirectory(directory: string): void {
  if (existsSync(directory) && statSync(directory).isDirectory()) return;
  throw new ConfigError([
    { file: null, path: '', message: `the config folder ${directory} does not exist (MAPSYNC_CONFIG_DIR or --dir)` },
  ]);
}

const PROCESS_SECTIONS = ['scheduler', 'runs'] as const;
type ProcessSection = (typeof PROCESS_SECTIONS)[number];
const isProcessSection = (key: string): key is ProcessSection => (PROCESS_SECTIONS as readonly string[]).includes(key);

/**
 * Reads every YAML/JSON file directly inside the folder (sub-folders such as
 * `examples/` are not read), substitutes `${ENV}` references and validates the result.
 * Throws a ConfigError naming each bad key by file and path.
 */
export function loadConfig(directory = defaultConfigDirectory(), env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const files = existsSync(directory)
    ? readdirSync(directory)
        .filter((name) => CONFIG_FILE.test(name) && statSync(path.join(directory, name)).isFile())
        .sort()
    : [];

  const problems: ConfigProblem[] = [];
  const integrations: unknown[] = [];
  const origins: { file: string; index: number }[] = [];
  /** Non-text scalars as typed, by file and path, to say how to quote them. */
  const typedScalars = new Map<string, TypedScalar>();
  /** Process-wide sections (`scheduler`, `runs`): each set in one file only. */
  const sections = new Map<ProcessSection, { value: unknown; file: string }>();

  for (const file of files) {
    const raw = parseFile(path.join(directory, file), file, problems, typedScalars);
    if (raw === undefined) continue;
    const substituted = substituteEnv(raw, env, [], (problemPath, message) =>
      problems.push({ file, path: formatPath(problemPath), message }),
    );
    if (substituted === null || typeof substituted !== 'object' || Array.isArray(substituted)) {
      problems.push({ file, path: '', message: 'must be a mapping with an "integrations" list' });
      continue;
    }
    const { integrations: list, ...rest } = substituted as Record<string, unknown>;
    for (const [key, value] of Object.entries(rest)) {
      if (!isProcessSection(key)) {
        problems.push({ file, path: key, message: `is not a known setting (expected "integrations", ${PROCESS_SECTIONS.map((name) => `"${name}"`).join(' or ')})` });
        continue;
      }
      if (value === undefined) continue;
      const earlier = sections.get(key);
      if (earlier) problems.push({ file, path: key, message: `is already set in ${earlier.file}` });
      sections.set(key, { value, file });
    }
    if (list !== undefined) {
      if (!Array.isArray(list)) problems.push({ file, path: 'integrations', message: 'must be a list' });
      else
        list.forEach((item, index) => {
          integrations.push(item);
          origins.push({ file, index });
        });
    }
  }

  const input = { integrations, ...Object.fromEntries([...sections].map(([name, section]) => [name, section.value])) };
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [head, index, ...tail] = issue.path;
      if (head === 'integrations' && typeof index === 'number' && origins[index]) {
        const origin = origins[index]!;
        const where = formatPath(['integrations', origin.index, ...tail]);
        problems.push({ file: origin.file, path: where, message: explainType(issue, valueAt(input, issue.path), typedScalars.get(`${origin.file}|${where}`)) });
      } else {
        const where = formatPath(issue.path);
        const sectionFile = typeof head === 'string' && isProcessSection(head) ? (sections.get(head)?.file ?? null) : null;
        const typed = sectionFile ? typedScalars.get(`${sectionFile}|${where}`) : undefined;
        problems.push({ file: sectionFile, path: where, message: explainType(issue, valueAt(input, issue.path), typed) });
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { config: parsed.data!, files, directory };
}

function parseFile(fullPath: string, file: string, problems: ConfigProblem[], typedScalars: Map<string, TypedScalar>): unknown {
  const text = readFileSync(fullPath, 'utf8');
  if (file.toLowerCase().endsWith('.json')) {
    try {
      return JSON.parse(text);
    } catch (error) {
      problems.push({ file, path: '', message: `cannot be parsed: ${(error as Error).message.split('\n')[0]!}` });
      return undefined;
    }
  }
  const read = readYamlFile(text);
  if (!read.ok) {
    problems.push({ file, path: '', message: `cannot be parsed: ${read.message}` });
    return undefined;
  }
  for (const problem of read.problems) problems.push({ file, path: formatPath(problem.path), message: problem.message });
  for (const scalar of read.typedScalars) typedScalars.set(`${file}|${formatPath(scalar.path)}`, scalar);
  return read.value;
}

/**
 * A schema issue in the words of a YAML file: a key given a number, a boolean or nothing
 * where text is wanted gets the quoted form to write (`id: 2024` → `id: "2024"`), and a
 * `yes`/`no` where true/false is wanted says so.
 */
function explainType(
  issue: { code: string; message: string; expected?: unknown; path: PropertyKey[] },
  value: unknown,
  typed: TypedScalar | undefined,
): string {
  if (issue.code !== 'invalid_type') return issue.message;
  if (!typed) {
    // JSON, or a key present with a value of the wrong kind: never "is required".
    if (issue.expected === 'string' && value !== undefined && typeof value !== 'string') {
      return `must be text, not ${describeValue(value)}${typeof value === 'number' ? `; write it in quotes: "${value}"` : ''}`;
    }
    return plainTypeMessage(issue, value);
  }
  const last = issue.path[issue.path.length - 1];
  const quoted = typeof last === 'number' ? `"${typed.source}"` : `${String(last)}: "${typed.source}"`;
  if (issue.expected === 'string' && typeof typed.value !== 'string') {
    return `must be text, but YAML reads ${typed.source === '' ? 'an empty value' : typed.source} as ${describeValue(typed.value)}; write it in quotes: ${quoted}`;
  }
  if (issue.expected === 'boolean' && typeof typed.value === 'string') {
    return `must be true or false (YAML 1.2 reads ${typed.source} as text)`;
  }
  return plainTypeMessage(issue, typed.value);
}

const EXPECTED_WORDS: Readonly<Record<string, string>> = {
  array: 'a list (one "- item" per line, or [a, b])',
  object: 'a mapping of keys',
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

/** zod's "Invalid input: expected array, received string" in the words of a config file. */
function plainTypeMessage(issue: { message: string; expected?: unknown }, value: unknown): string {
  const expected = typeof issue.expected === 'string' ? EXPECTED_WORDS[issue.expected] : undefined;
  if (!expected || !/^Invalid input/.test(issue.message)) return issue.message;
  return value === undefined ? `is required (${expected})` : `must be ${expected}, not ${describeValue(value)}`;
}

function valueAt(root: unknown, at: readonly PropertyKey[]): unknown {
  let current = root;
  for (const segment of at) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === null) return 'no value (null)';
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}

/** Replaces `${NAME}` / `${NAME:-default}` in every string; reports unset variables by path. */
function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  at: PropertyKey[],
  report: (path: PropertyKey[], message: string) => void,
): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      report(at, `environment variable ${name} is not set`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => substituteEnv(item, env, [...at, index], report));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substituteEnv(item, env, [...at, key], report)]),
    );
  }
  return value;
}
