import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Paths pino censors wherever they appear in a log object. Tokens and keys must never reach a
 * log line, so the usual carriers are listed here once rather than trusted to every call site.
 */
const REDACT_PATHS = [
  'token',
  '*.token',
  'tokens',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  // ioredis attaches the failed command to its errors: AUTH's password, or a job's whole data.
  'err.command',
  '*.err.command',
];

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'autopoll',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  });
}
