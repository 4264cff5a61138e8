import { mkdir, readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { scanToolsRoot, SCAN_LIMIT } from '../consumer/claude/toolsRootFiles.js';
import type { Logger } from '../shared/logger.js';
import { DEFAULT_CONTEXT_ROOT, ownedExposure, ownedInsideRoot, rootRefusal, type OwnedFiles } from '../shared/ownedFiles.js';
import { ConfigError } from './options.js';

/**
 * Before the producer starts: the default context root is made (a fresh checkout has none), and a
 * root that would hand out the bridge file or the private Redis's data is refused. An empty default
 * root is warned of: before it, the default was the working folder, and an upgraded setup's
 * context_file questions would all be refused without a word on the operator's side.
 */
export async function prepareContextRoot(root: string, owned: OwnedFiles, logger: Logger): Promise<void> {
  if (resolve(root) === resolve(DEFAULT_CONTEXT_ROOT)) {
    const made = await mkdir(root, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      throw new ConfigError(`invalid configuration:\n  --context-root (env AUTOPOLL_CONTEXT_ROOT): cannot create the default ${root} here (${err.code ?? err.message}); create it, or pass the folder that holds the askers' context files`);
    });
    const empty = (await readdir(root).catch(() => [])).length === 0;
    if (empty) logger.warn({ contextRoot: resolve(root), created: made !== undefined }, `${made !== undefined ? 'created the context root' : 'the context root is empty'}: every context_file will be refused until the files askers name are put there; the default was the working folder before, so to keep reading files from elsewhere pass --context-root (env AUTOPOLL_CONTEXT_ROOT) with a folder holding only the files to share`);
  }
  const found = await ownedInsideRoot(root, owned);
  if (found !== undefined) throw new ConfigError(`invalid configuration:\n  ${rootRefusal('--context-root', 'AUTOPOLL_CONTEXT_ROOT', root, ownedExposure(found))}`);
}

/**
 * Before the sessions start: a tools root that holds autopoll's own files, or a link to one, or
 * any SQLite file (Grep and Glob walk folders, past the per-path check), is refused.
 */
export async function checkToolsRoot(root: string, owned: OwnedFiles, logger: Logger): Promise<void> {
  const refuse = (what: string) => {
    throw new ConfigError(`invalid configuration:\n  ${rootRefusal('--tools-root', 'AUTOPOLL_TOOLS_ROOT', root, what)}`);
  };
  const found = await ownedInsideRoot(root, owned);
  if (found !== undefined) refuse(ownedExposure(found));
  const started = Date.now();
  const scan = await scanToolsRoot(resolve(root), owned);
  if (scan.found) refuse(`${scan.found.path}, which ${scan.found.reason}`);
  logger.info({ toolsRoot: resolve(root), entries: scan.entries, durationMs: Date.now() - started }, 'scanned the tools root for links to what autopoll owns');
  if (!scan.complete) logger.warn({ toolsRoot: resolve(root), scanned: SCAN_LIMIT }, 'the tools root is too large to scan whole for links to the bridge file; only its first entries were checked (prefer a smaller folder)');
}
