// Apart from openBridge.ts: the option tables read it for a default, and --help must not load better-sqlite3.
/**
 * How long one statement waits for another connection's lock before SQLITE_BUSY. The wait blocks
 * the whole process, so it is set by what else the process must keep doing meanwhile.
 */
export const BUSY_TIMEOUT_MS = {
  /** The producer (--busy-timeout-ms): its timers and Redis lock renewals must keep running, so retryBusy waits out longer locks asynchronously. */
  producer: 20,
  /** A command with nothing else to do (ask, status, replay): waits as long as the bridge's own connections do. */
  command: 10_000,
  /** `autopoll mcp`: its calls wait at once, so like the producer it waits out longer locks asynchronously (retryBusy). */
  mcp: 20,
  /** A doctor check: well inside its runner's timeout, which cannot interrupt a synchronous wait. */
  check: 2000,
} as const;
