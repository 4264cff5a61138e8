import { BridgeLostError } from '../../bridge/BridgeChanges.js';
import { lostBridgeFile } from '../../bridge/BridgeDatabase.js';
import { retryBusy } from '../../bridge/busyRetry.js';
import { BUSY_TIMEOUT_MS } from '../../bridge/busyTimeout.js';
import type { Db } from '../../bridge/openBridge.js';
import type { Logger } from '../../shared/logger.js';
import { ToolRefusal } from './ToolRefusal.js';

/**
 * One of `autopoll mcp`'s bridge writes: another process's lock is waited for asynchronously (other
 * calls go on meanwhile) for as long as the bridge's own connections wait, then SQLITE_BUSY is the
 * answer. Each try first checks, right before it writes, that the call was not cancelled, the
 * server is not stopping, and the file at the path is still the one open: none of them asks anything.
 */
export async function askerWrite<T>(o: { what: string; db: Db; logger: Logger; call: AbortSignal; stopping: AbortSignal }, fn: () => T): Promise<T> {
  // A timer of our own: AbortSignal.timeout held only by AbortSignal.any may be collected before it fires.
  const limit = new AbortController();
  const timer = setTimeout(() => limit.abort(), BUSY_TIMEOUT_MS.command);
  try {
    return await retryBusy(o.what, o.logger, () => {
      if (o.call.aborted) throw new ToolRefusal('the call was cancelled; nothing was asked');
      if (o.stopping.aborted) throw new ToolRefusal('autopoll mcp is stopping; nothing was asked: ask again once it is back');
      const lost = lostBridgeFile(o.db);
      if (lost !== undefined) throw new BridgeLostError(lost);
      return fn();
    }, AbortSignal.any([o.call, limit.signal, o.stopping]));
  } finally {
    clearTimeout(timer);
  }
}
