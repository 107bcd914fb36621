import pino, { type Logger } from 'pino';
import { maskDocumentsInText, redactUrl, scrubLogValue, serializeError } from './log-scrubbing.ts';

export type { Logger };

/** Keys whose values are secrets wherever they appear in a log object. */
const REDACTED_PATHS = [
  'token',
  '*.token',
  '*.*.token',
  'password',
  '*.password',
  '*.*.password',
  'apiKey',
  'headers["api-key"]',
  'headers.authorization',
  '*.headers["api-key"]',
  '*.headers.authorization',
  'req.headers.authorization',
  'config.headers',
];

/** The access log's view of a request (fastify's, with credential query values redacted). */
function serializeRequest(request: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  return {
    method: request.method,
    url: typeof request.url === 'string' ? redactUrl(request.url) : request.url,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'mapsync',
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // These win over fastify's own serialisers of the same name.
      serializers: { err: serializeError, error: serializeError, req: serializeRequest },
      hooks: {
        // Every argument of every log call: documents masked, errors without the data they quote.
        logMethod(args, method) {
          const scrubbed = args.map((arg) => scrubLogValue(arg));
          // log.error(error, 'msg') keeps pino's shape: the error under `err`, its message as msg when none is given.
          if (args[0] instanceof Error) {
            scrubbed[0] = { err: scrubbed[0] };
            if (scrubbed.length === 1) scrubbed.push(maskDocumentsInText(args[0].message));
          }
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    options.destination,
  );
}

/** A logger that writes nothing, for library use and tests that don't look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
