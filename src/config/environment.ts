import { z } from 'zod';
import { ConfigError } from './config-error.ts';

/**
 * A whole number from an environment variable, or `fallback` when the variable is unset or
 * empty. Throws ConfigError naming the variable, the allowed range and the value found, so a
 * typo (`PORT=80a`) stops the start with that sentence rather than a NaN deep inside.
 */
export function integerFromEnv(env: NodeJS.ProcessEnv, name: string, range: { min: number; max: number; fallback: number }): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return range.fallback;
  const parsed = z.coerce.number().int().min(range.min).max(range.max).safeParse(raw.trim());
  if (parsed.success) return parsed.data;
  throw new ConfigError([
    { file: null, path: `environment ${name}`, message: `must be a whole number from ${range.min} to ${range.max} (got ${JSON.stringify(raw)})` },
  ]);
}
