import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ownedExposure, ownedInsideRoot, rootRefusal, type OwnedFiles } from '../shared/ownedFiles.js';
import { fail, ok, type Check, type CheckResult } from '../shared/checks.js';
import { errorText } from './check.js';

/**
 * The folder a query's context_file must resolve inside: there, a folder, readable (and
 * searchable), and holding none of autopoll's own files (the producer refuses to start on one).
 */
export function contextRootCheck(root: string, owned: OwnedFiles, timeoutMs = 3000): Check {
  return { name: 'context-root', timeoutMs, run: async () => [await inspect(resolve(root), owned)] };
}

async function inspect(dir: string, owned: OwnedFiles): Promise<CheckResult> {
  const fix = "create it, or pass --context-root (env AUTOPOLL_CONTEXT_ROOT) with the folder that holds the askers' context files";
  try {
    if (!(await stat(dir)).isDirectory()) return fail('context-root', `${dir} is not a directory`, fix);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail('context-root', code === 'ENOENT' ? `${dir} does not exist` : `cannot look at ${dir}: ${errorText(err)}`, fix);
  }
  try {
    // Reading a file inside needs the folder searchable (x) as well as readable (r).
    await access(dir, constants.R_OK | constants.X_OK);
  } catch {
    return fail('context-root', `${dir} is not readable by this user: every context_file in it would be refused`, `chmod u+rx ${dir}, or run autopoll as a user that can read it`);
  }
  const found = await ownedInsideRoot(dir, owned);
  if (found !== undefined) {
    return fail('context-root', `${dir} holds ${ownedExposure(found)}; the producer refuses to start with it`, rootRefusal('--context-root', 'AUTOPOLL_CONTEXT_ROOT', dir, found));
  }
  return ok('context-root', `${dir} (a query's context_file must resolve inside it)`);
}
