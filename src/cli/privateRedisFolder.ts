import { linkSync, mkdirSync, readFileSync, readlinkSync, realpathSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PRIVATE_REDIS_DIR } from '../shared/ownedFiles.js';

/** The pid of the `up` that owns (and will stop) the private Redis. */
export const OWNER_FILE = 'up.pid';

/**
 * Takes this folder's private Redis for this `up`: up.pid is created with O_EXCL (a link of a
 * whole file: no reader sees it empty), so of two `up`s started together one wins. Returns the pid
 * of the live `up` that holds it instead; an owner that is gone (or a reused pid) is removed first.
 * Left: two `up`s finding the same stale file may both remove it, one the other's fresh one.
 */
export function claimFolder(dataDir = PRIVATE_REDIS_DIR): number | undefined {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const owner = join(dir, OWNER_FILE);
  const tmp = `${owner}.${process.pid}.tmp`;
  writeFileSync(tmp, `${process.pid}\n`, { mode: 0o600 });
  try {
    for (;;) {
      try {
        linkSync(tmp, owner);
        return undefined;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const live = liveOwner(dataDir);
      if (live !== undefined) return live;
      rmSync(owner, { force: true });
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Gives the folder back when this `up` uses no private Redis: its up.pid, and the folder when that leaves it empty. */
export function releaseFolder(dataDir = PRIVATE_REDIS_DIR): void {
  rmSync(join(dataDir, OWNER_FILE), { force: true });
  try {
    rmdirSync(dataDir);
  } catch {
    // not empty: an earlier private Redis's files
  }
}

/**
 * The pid of another live `up` that owns this folder's private Redis; undefined when its owner is
 * gone, or when its pid now belongs to a process that is not this autopoll's `up` (the pid was reused).
 */
function liveOwner(dataDir = PRIVATE_REDIS_DIR): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, OWNER_FILE), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  return runsThisAutopoll(pid) ? pid : undefined;
}

/**
 * Whether the process is an `up` of the same autopoll script as this one (its argv[1], resolved
 * against its own working folder) in this working folder. Another user's process is unreadable
 * here: it is no `up` of ours either.
 */
function runsThisAutopoll(pid: number): boolean {
  try {
    const [, script, ...args] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!script || process.argv[1] === undefined || !args.includes('up')) return false;
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    return realpathSync(cwd) === realpathSync(process.cwd()) && realpathSync(resolve(cwd, script)) === realpathSync(process.argv[1]);
  } catch {
    return false;
  }
}
