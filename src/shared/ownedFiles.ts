import type { BigIntStats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Where `up` keeps its private redis-server's data (the AOF holds every job), under the working folder. */
export const PRIVATE_REDIS_DIR = './data/redis';
/** The default context root: a folder of its own, never the working folder (.env, data/redis, the bridge). */
export const DEFAULT_CONTEXT_ROOT = './data/context';

export type OwnedKind = 'bridge' | 'redis' | 'claude';

/** A path autopoll owns, and what it is (which says why it is never sent). */
export interface OwnedPath {
  path: string;
  kind: OwnedKind;
}

/** Files a model must never be given: what autopoll owns, named by path, compared by identity. */
export interface OwnedFiles {
  /** Single files: the bridge file (every conversation's tokens) with its -wal, -shm and -journal; Claude Code's global config. */
  files: OwnedPath[];
  /** Folders whose every file is owned: the private Redis's data; Claude Code's config folder (its login). */
  dirs: OwnedPath[];
}

/** A file's identity: a hard link or another spelling of a path has the same. */
export interface Identity {
  dev: bigint;
  ino: bigint;
  kind: OwnedKind;
}

/**
 * What a process owns: the bridge file when it knows it (a standalone consumer does not), the
 * private Redis's folder, and Claude Code's config and credentials as this process would find them
 * (the sessions log in with them: a refresh token there outlives any answer).
 */
export function ownedFiles(bridgeDb?: string, env: NodeJS.ProcessEnv = process.env): OwnedFiles {
  const bridge = bridgeDb === undefined ? [] : ['', '-wal', '-shm', '-journal'].map((suffix) => resolve(`${bridgeDb}${suffix}`));
  const home = env.HOME || homedir();
  return {
    files: [...bridge.map((path): OwnedPath => ({ path, kind: 'bridge' })), { path: resolve(home, '.claude.json'), kind: 'claude' }],
    dirs: [
      { path: resolve(PRIVATE_REDIS_DIR), kind: 'redis' },
      { path: resolve(env.CLAUDE_CONFIG_DIR || join(home, '.claude')), kind: 'claude' },
    ],
  };
}

/** Nothing owned: for a reader or policy that is told of no files. */
export const NOTHING_OWNED: OwnedFiles = { files: [], dirs: [] };

/** A folder's files are few (an AOF folder, a dump): a bound keeps a huge folder from stalling every read. */
const MAX_DIR_FILES = 200;

/**
 * The owned files' identities now: taken at each use, as -wal and -shm are recreated and the AOF
 * rewritten under new inodes. A missing file is simply not there to match.
 */
export async function ownedIdentities(owned: OwnedFiles): Promise<Identity[]> {
  const files = [...owned.files];
  for (const dir of owned.dirs) for (const path of await filesUnder(dir.path, MAX_DIR_FILES)) files.push({ path, kind: dir.kind });
  const stats = await Promise.all(files.map(({ path }) => stat(path, { bigint: true }).catch(() => undefined)));
  return stats.flatMap((s, i) => (s ? [{ dev: s.dev, ino: s.ino, kind: files[i]!.kind }] : []));
}

/** The owned file this stat is, if any. */
function ownedMatch(s: BigIntStats, identities: readonly Identity[]): OwnedKind | undefined {
  return identities.find((id) => id.dev === s.dev && id.ino === s.ino)?.kind;
}

/** Regular files under `dir` (not following links), at most `max`, shallowest first; none when it does not exist. */
async function filesUnder(dir: string, max: number): Promise<string[]> {
  const found: string[] = [];
  const queue = [dir];
  while (queue.length && found.length < max) {
    const entries = await readdir(queue.shift()!, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = join(e.parentPath, e.name);
      if (e.isDirectory()) queue.push(path);
      else if (e.isFile() && found.length < max) found.push(path);
    }
  }
  return found;
}

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Whether a root would hand out autopoll's own files: it holds the bridge file, the private
 * Redis's folder or Claude Code's config, or lies inside one of those folders. Real paths on both sides: a link to a folder, or the
 * bridge named through one, is the same place. A root that does not exist (yet) holds nothing.
 */
export async function ownedInsideRoot(root: string, owned: OwnedFiles): Promise<string | undefined> {
  const rootReal = await realpath(root).catch(() => undefined);
  if (rootReal === undefined) return undefined;
  for (const { path } of [...owned.files, ...owned.dirs]) {
    if (isInside(rootReal, await wouldBeAt(path))) return path;
  }
  for (const { path } of owned.dirs) {
    if (isInside(await wouldBeAt(path), rootReal)) return path;
  }
  return undefined;
}

/** The real path a file has, or would have once made (the producer creates a missing bridge file). */
async function wouldBeAt(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await realpath(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(await wouldBeAt(parent), basename(abs));
  }
}

/** What a root holding an owned path would expose, in words. */
export function ownedExposure(path: string): string {
  return `${path}, which autopoll owns (the bridge file holds every conversation's token, the private Redis's data every job, Claude Code's config its login)`;
}

/** The refusal of a root, naming the flag and its variable, what it would expose, and the fix. */
export function rootRefusal(flag: string, env: string, root: string, exposed: string): string {
  return `${flag} (env ${env}) ${root} would expose ${exposed}: pass a folder that holds only the files to be read (such as ${DEFAULT_CONTEXT_ROOT}), with the bridge file, ${PRIVATE_REDIS_DIR} and Claude Code's config (CLAUDE_CONFIG_DIR or ~/.claude, ~/.claude.json) outside it`;
}

/**
 * Which of autopoll's files an opened file is: by identity, or by lying in one of its folders
 * (`real`: its real path). `identities`: taken once for many files (a scan), else now.
 */
export async function ownedKindOf(s: BigIntStats, real: string, owned: OwnedFiles, identities?: readonly Identity[]): Promise<OwnedKind | undefined> {
  const byIdentity = ownedMatch(s, identities ?? (await ownedIdentities(owned)));
  if (byIdentity) return byIdentity;
  for (const dir of owned.dirs) {
    const dirReal = await realpath(dir.path).catch(() => undefined);
    if (dirReal !== undefined && isInside(dirReal, real)) return dir.kind;
  }
  return undefined;
}

/** Why an owned file is never handed out, in words for the asker or the model. */
export const OWNED_REASON: Record<OwnedKind, string> = {
  bridge: "is the bridge database (or its -wal, -shm or -journal), which holds every conversation's tokens; it is never sent",
  redis: "is the private Redis's data, which holds every job; it is never sent",
  claude: "is Claude Code's config or credentials (CLAUDE_CONFIG_DIR or ~/.claude, ~/.claude.json), which hold its login; it is never sent",
};
