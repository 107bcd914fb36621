export interface BackoffOptions {
  /** Delay after the first failed attempt (default 5 s). */
  baseMs: number;
  /** Ceiling of one delay (default 15 min): a platform down for hours is retried this often. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 5_000, maxMs: 15 * 60_000 };

/**
 * Exponential backoff with jitter: base · 2^(attempt−1), capped, then spread over ±50% so
 * rows that failed together (the platform went down) do not all come back at once.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  const step = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  return Math.round(step * (0.5 + random()));
}
