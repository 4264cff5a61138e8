import { createRequire } from 'node:module';
import { pino, type Logger, type LoggerOptions } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import { knownSecrets } from './knownSecrets.js';

export type { Logger };

/** `json`: one pino JSON object a line, for anything that reads logs; `pretty`: for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

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

/**
 * The process's logger. Both formats are the same pino logger (level, redaction, fields): `pretty`
 * only renders each finished JSON line for the eye, so what is censored or carried (ids) is the same.
 */
export function createLogger(options: { level?: string; name?: string; format?: LogFormat; stream?: 'stdout' | 'stderr' } = {}): Logger {
  const config: LoggerOptions = {
    name: options.name ?? 'autopoll',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Paths cannot catch a token quoted inside a message (an error's text, a stderr tail): each
    // finished line is scrubbed of the values the process knows, whichever field carries them.
    hooks: { streamWrite: (line) => knownSecrets.redactJson(line) },
    base: { pid: process.pid },
  };
  // stderr where stdout is a protocol's (autopoll mcp speaks MCP on its stdout).
  const fd = options.stream === 'stderr' ? 2 : 1;
  if (options.format === 'pretty') return pino(config, prettyTo(fd));
  return fd === 1 ? pino(config) : pino(config, pino.destination({ dest: 2, sync: true }));
}

/**
 * pino-pretty's formatter over a synchronous stdout (or stderr), in this thread rather than as a worker-thread
 * transport: lines keep their order with what the CLI writes to stderr, and none is lost when the
 * process exits right after logging. Loaded only here, so JSON logging never pays for it.
 */
function prettyTo(fd: 1 | 2): { write: (line: string) => void } {
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const options: PrettyOptions = { translateTime: 'SYS:HH:MM:ss.l', singleLine: true };
  const prettify = prettyFactory(options);
  const out = pino.destination({ dest: fd, sync: true });
  return { write: (line) => out.write(prettify(line)) };
}
