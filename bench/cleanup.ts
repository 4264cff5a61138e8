/**
 * What a benchmark started, undone: a cleanup stack the entry point runs at the end, on a signal
 * or on the global watchdog, and the sweep of folders and processes a killed run left behind.
 */
import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive } from '../test/support/claudeProcesses.js';

type Task = () => Promise<void> | void;

/** LIFO stack of cleanup tasks; each runs once, errors are reported and do not stop the others. */
export class CleanupStack {
  private tasks: Array<{ what: string; fn: Task }> = [];

  add(what: string, fn: Task): () => Promise<void> {
    const entry = { what, fn };
    this.tasks.push(entry);
    return async () => {
      const i = this.tasks.indexOf(entry);
      if (i < 0) return;
      this.tasks.splice(i, 1);
      await runTask(entry);
    };
  }

  async runAll(): Promise<void> {
    while (this.tasks.length) await runTask(this.tasks.pop()!);
  }
}

/** Runs one cleanup task; a task that hangs (a close waiting on a dead Redis) is left after 20 s. */
async function runTask(entry: { what: string; fn: Task }): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timedOut = await Promise.race([
      Promise.resolve(entry.fn()).then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 20_000))),
    ]);
    if (timedOut) process.stderr.write(`bench cleanup: ${entry.what} did not finish in 20 s; going on\n`);
  } catch (err) {
    process.stderr.write(`bench cleanup: ${entry.what} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  } finally {
    clearTimeout(timer);
  }
}

/** Everything a benchmark started; run by the entry point at the end, on a signal, or on the watchdog. */
export const cleanup = new CleanupStack();

/** Temporary folders of the bench are named `<prefix><pid>-XXXXXX`, so stale ones can be told apart. */
export const BENCH_TEMP_PREFIX = 'autopoll-bench-';

/** Where a bench folder records the redis-server it started, for `removeStaleTempDirs`. */
const REDIS_RECORD = 'redis-server.json';

/** Notes in the bench folder which redis-server (pid, folder) belongs to this run. */
export function recordRedisServer(benchDir: string, pid: number, redisDir: string): void {
  writeFileSync(join(benchDir, REDIS_RECORD), JSON.stringify({ pid, dir: redisDir }));
}

/**
 * Removes bench folders left in the temp dir by a bench process that no longer runs (one that
 * was killed before it could clean up: a bridge file with old messages is hundreds of MB), and
 * stops the redis-server such a run left behind (its own pid and folder, checked, nothing else)
 * and any process still working inside the folder (the Claude benchmark's sessions). Producer
 * and consumer need no sweep: they run under setpriv --pdeathsig.
 */
export function removeStaleTempDirs(): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(tmpdir())) {
    const m = new RegExp(`^${BENCH_TEMP_PREFIX}(\\d+)-`).exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    const dir = join(tmpdir(), name);
    try {
      const redis = JSON.parse(readFileSync(join(dir, REDIS_RECORD), 'utf8')) as { pid: number; dir: string };
      if (readlinkSync(`/proc/${redis.pid}/cwd`) === redis.dir && readFileSync(`/proc/${redis.pid}/cmdline`, 'utf8').startsWith('redis-server')) {
        process.kill(redis.pid, 'SIGTERM');
      }
      rmSync(redis.dir, { recursive: true, force: true });
    } catch {
      // no record, or that redis-server is gone already
    }
    killProcessesIn(dir);
    rmSync(dir, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * SIGKILLs the processes whose working directory is inside `dir`: Claude Code sessions of a
 * bench that was killed (they run in their own process group, without --pdeathsig, and one that
 * is mid-turn keeps retrying the gone API instead of exiting).
 */
function killProcessesIn(dir: string): void {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`)) process.kill(Number(name), 'SIGKILL');
    } catch {
      // gone, or not ours to read
    }
  }
}
