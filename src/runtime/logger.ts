import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs. Secrets are kept out at the source (URLs are logged through
 * `redactUrl`); the redact list is a second line of defence.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
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
    },
    destination,
  );
}

/** A URL with its password (and any `key`/`token` query values) replaced, safe to log. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = 'redacted';
    for (const name of [...parsed.searchParams.keys()]) {
      if (/key|token|secret|password/i.test(name)) parsed.searchParams.set(name, 'redacted');
    }
    // API keys often sit in the path (e.g. /v2/<key>); keep only the host for those.
    if (/[0-9a-f]{24,}/i.test(parsed.pathname)) parsed.pathname = '/…';
    return parsed.toString();
  } catch {
    return '[unparseable url]';
  }
}
