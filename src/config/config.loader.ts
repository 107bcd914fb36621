import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, formatPath, type ConfigProblem } from './config-error.ts';
import { configSchema, type MapsyncConfig } from './config.schema.ts';

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
  let scheduler: unknown;
  let schedulerFile: string | null = null;

  for (const file of files) {
    const raw = parseFile(path.join(directory, file), file, problems);
    if (raw === undefined) continue;
    const substituted = substituteEnv(raw, env, [], (problemPath, message) =>
      problems.push({ file, path: formatPath(problemPath), message }),
    );
    if (substituted === null || typeof substituted !== 'object' || Array.isArray(substituted)) {
      problems.push({ file, path: '', message: 'must be a mapping with an "integrations" list' });
      continue;
    }
    const { integrations: list, scheduler: fileScheduler, ...rest } = substituted as Record<string, unknown>;
    for (const key of Object.keys(rest)) {
      problems.push({ file, path: key, message: 'is not a known setting (expected "integrations" or "scheduler")' });
    }
    if (list !== undefined) {
      if (!Array.isArray(list)) problems.push({ file, path: 'integrations', message: 'must be a list' });
      else
        list.forEach((item, index) => {
          integrations.push(item);
          origins.push({ file, index });
        });
    }
    if (fileScheduler !== undefined) {
      if (schedulerFile) problems.push({ file, path: 'scheduler', message: `is already set in ${schedulerFile}` });
      scheduler = fileScheduler;
      schedulerFile = file;
    }
  }

  const parsed = configSchema.safeParse({ integrations, ...(scheduler === undefined ? {} : { scheduler }) });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [head, index, ...tail] = issue.path;
      if (head === 'integrations' && typeof index === 'number' && origins[index]) {
        const origin = origins[index]!;
        problems.push({ file: origin.file, path: formatPath(['integrations', origin.index, ...tail]), message: issue.message });
      } else {
        problems.push({ file: head === 'scheduler' ? schedulerFile : null, path: formatPath(issue.path), message: issue.message });
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { config: parsed.data!, files, directory };
}

function parseFile(fullPath: string, file: string, problems: ConfigProblem[]): unknown {
  const text = readFileSync(fullPath, 'utf8');
  try {
    return file.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    problems.push({ file, path: '', message: `cannot be parsed: ${message}` });
    return undefined;
  }
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
