import { pino, type Logger } from 'pino';
import { createScrubber } from './redact.js';

export type { Logger };

export interface LoggerOptions {
  destination?: pino.DestinationStream;
  /** Values that must never be printed (see `configSecrets` in src/config/secrets.ts): removed from every line, wherever they hide in it. */
  secrets?: Iterable<string>;
}

/**
 * JSON logs. Every line is scrubbed as it is written, after serialisation: a library's
 * error (viem's message, stack, `url`, `metaMessages`, nested `cause`s) can carry an
 * RPC key in places no serializer knows about. The redact list keeps known fields
 * tidy; the scrubber is what keeps secrets out.
 */
export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  return pino(
    {
      level,
      base: { service: 'ledgersync' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["x-api-key"]',
          '*.privateKey',
          '*.password',
          '*.secret',
          'privateKey',
          'password',
        ],
        censor: '[redacted]',
      },
      hooks: { streamWrite: createScrubber(options.secrets ?? []) },
    },
    options.destination,
  );
}
