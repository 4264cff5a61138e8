import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../shared/logger.js';
import { lostBridgeFile } from './BridgeDatabase.js';
import type { Db } from './openBridge.js';

export interface BridgeWatcherOptions {
  path: string;
  pollIntervalMs: number;
  onChange: () => void;
  /** The file at the path is no longer the one open (replaced, deleted); the watcher has stopped. */
  onLost: (reason: string) => void;
}

/**
 * Tells its owner (the producer, `autopoll mcp`) that another process committed to the bridge. In WAL mode commits land in
 * `<db>-wal`, so the folder is watched for both files; `PRAGMA data_version` then says whether
 * the change came from another connection (our own writes do not move it). A short poll of the
 * same pragma covers file systems where watching is unreliable. Each look first checks that the
 * file at the path is still the one open: a file moved, deleted or replaced there is seen on the
 * folder's event or the next poll.
 */
export class BridgeWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
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
        if (file === null || file === name || file === `${name}-wal`) this.check();
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
  }

  private check(): void {
    const lost = lostBridgeFile(this.db);
    if (lost) {
      this.stop();
      this.options.onLost(lost);
      return;
    }
    let version: number;
    try {
      version = this.dataVersion.get() ?? 0;
    } catch (err) {
      this.logger.warn({ err }, 'reading PRAGMA data_version failed; will try again');
      return;
    }
    if (version === this.lastVersion) return;
    this.lastVersion = version;
    this.options.onChange();
  }
}
