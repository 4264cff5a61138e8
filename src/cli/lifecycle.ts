import type { Logger } from '../shared/logger.js';

export interface Running {
  stop: () => Promise<void>;
  /** Settles when the service cannot go on (its bridge file was lost): it stops and exits 1. */
  failed?: Promise<unknown> | undefined;
  /** Settles when the service's work is over (an MCP client closed its stdin): it stops and exits 0. */
  ended?: Promise<unknown> | undefined;
}

/**
 * Runs a long-lived service until SIGTERM or SIGINT: then it stops taking work, lets `stop`
 * finish or hand back what is in flight, and exits 0. A second signal exits at once. A signal
 * while it starts aborts `start`'s signal: a start that gives up on it (Claude Code sessions
 * still warming up are killed) is a stop, not a failure.
 */
export async function runService(logger: Logger, start: (stopping: AbortSignal) => Promise<Running>, shutdownTimeoutSec: number): Promise<void> {
  let stopping = false;
  const abortStart = new AbortController();
  const stop = (code: 0 | 1) => {
    stopping = true;
    // Past the deadline (in-flight work's allowance plus closing connections) we exit anyway.
    const hardStop = setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, (shutdownTimeoutSec + 10) * 1000);
    hardStop.unref();
    abortStart.abort();
    void running.then(
      (r) => r.stop(),
      (err: unknown) => logger.info({ err }, 'stopped while starting'),
    ).then(
      () => {
        logger.info('stopped');
        logger.flush();
        process.exit(code);
      },
      (err) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    logger.info({ signal }, 'stopping: no new work; finishing what is in flight');
    stop(0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const running = start(abortStart.signal);
  try {
    // The reason was logged where it happened; a signal already stopping wins.
    const r = await running;
    void r.failed?.then(() => stopping || stop(1));
    void r.ended?.then(() => stopping || stop(0));
  } catch (err) {
    // Aborted by a signal: its handler exits.
    if (!abortStart.signal.aborted) throw err;
  }
}
