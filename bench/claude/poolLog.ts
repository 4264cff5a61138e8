import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/shared/logger.js';

/** How a session's end is logged: `closed` (info) when the pool closed or recycled it, `process exited unexpectedly` (warn). */
const EXIT_LOG = /^Claude Code session (closed|process exited)/;

/** A pino logger for the pool (info and up) that counts sessions' ends and warn/error lines, and keeps the first few of those. */
export class LogCounter {
  sessionExits = 0;
  warnings = 0;
  errors = 0;
  readonly notable: string[] = [];
  readonly logger: Logger;

  constructor() {
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        for (const line of chunk.toString().split('\n')) {
          if (!line) continue;
          try {
            const entry = JSON.parse(line) as { level?: number; msg?: string };
            const level = entry.level ?? 0;
            if (EXIT_LOG.test(entry.msg ?? '')) this.sessionExits++;
            if (level >= 50) this.errors++;
            else if (level >= 40) this.warnings++;
            if (level >= 40 && this.notable.length < 5) this.notable.push(`${level >= 50 ? 'error' : 'warn'}: ${entry.msg ?? line}`);
          } catch {
            // not JSON
          }
        }
        done();
      },
    });
    this.logger = pino({ level: 'info', base: null }, sink);
  }
}
