import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../shared/logger.js';
import { lostBridgeFile } from './BridgeDatabase.js';
import type { Db } from './openBridge.js';

/**
 * The looks after a file event, each this many ms after the one before: a writer with
 * `synchronous = FULL` (the bridge's own) syncs the `-wal` before it publishes the commit.
 */
const RECHECK_DELAYS_MS = [2, 20, 100, 500] as const;

export interface BridgeWatcherOptions {
  path: string;
  pollIntervalMs: number;
  onChange: () => void;
  /** The file at the path is no longer the one open (replaced, deleted); the watcher has stopped. */
  onLost: (reason: string) => void;
}

/**
 * Tells its owner (the producer; `autopoll ask` and `autopoll mcp` through BridgeChanges) that another process committed to the bridge. In WAL mode commits land in
 * `<db>-wal`, so the folder is watched for both files; `PRAGMA data_version` then says whether
 * the change came from another connection (our own writes do not move it). A short poll of the
 * same pragma covers file systems where watching is unreliable. Each look first checks that the
 * file at the path is still the one open: a file moved, deleted or replaced there is seen on the
 * folder's event or the next poll.
 */
export class BridgeWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private recheck: NodeJS.Timeout | undefined;
  private lastVersion = -1;
  private readonly dataVersion;

  constructor(
    private readonly db: Db,
    private readonly options: BridgeWatcherOptions,
    private readonly logger: Logger,
  ) {
    this.dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  }

  start(): void {
    this.lastVersion = this.dataVersion.get() ?? 0;
    const name = basename(this.options.path);
    try {
      this.watcher = watch(dirname(this.options.path), (_event, file) => {
        if (file === null || file === name || file === `${name}-wal`) this.onFileEvent();
      });
      this.watcher.on('error', (err) => {
        this.logger.warn({ err }, 'watching the bridge folder failed; relying on the poll');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.logger.warn({ err }, 'cannot watch the bridge folder; relying on the poll');
    }
    this.timer = setInterval(() => this.check(), this.options.pollIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    clearTimeout(this.recheck);
    this.recheck = undefined;
  }

  /**
   * A commit writes its frames to `-wal` (the events) and then publishes them in the shared-memory
   * index, which makes no event: a look on the event can come before the commit is visible and see
   * nothing new. So after an event it is looked at again a few times over the next ~0.6 s (a
   * stopped watcher schedules none), instead of leaving the commit to the poll.
   */
  private onFileEvent(): void {
    // Whatever this look finds, the event's own commit may still be on its way: every event starts the looks again.
    clearTimeout(this.recheck);
    this.recheck = undefined;
    this.check();
    this.recheckAfter(0);
  }

  private recheckAfter(step: number): void {
    const delay = RECHECK_DELAYS_MS[step];
    if (delay === undefined || this.timer === undefined) return;
    this.recheck = setTimeout(() => {
      this.recheck = undefined;
      this.check();
      this.recheckAfter(step + 1);
    }, delay);
  }

  /** True when another process committed since the last look (and the owner was told). */
  private check(): boolean {
    const lost = lostBridgeFile(this.db);
    if (lost) {
      this.stop();
      this.options.onLost(lost);
      return true;
    }
    let version: number;
    try {
      version = this.dataVersion.get() ?? 0;
    } catch (err) {
      this.logger.warn({ err }, 'reading PRAGMA data_version failed; will try again');
      return false;
    }
    if (version === this.lastVersion) return false;
    this.lastVersion = version;
    this.options.onChange();
    return true;
  }
}
