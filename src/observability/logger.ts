import pino, { type Logger } from 'pino';

export type { Logger };

/** Keys whose values are secrets wherever they appear in a log object. */
const REDACTED_PATHS = [
  'token',
  '*.token',
  '*.*.token',
  'apiKey',
  'headers["api-key"]',
  'headers.authorization',
  '*.headers["api-key"]',
  '*.headers.authorization',
  'req.headers.authorization',
  'config.headers',
];

export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'mapsync',
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

/** A logger that writes nothing, for library use and tests that don't look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
