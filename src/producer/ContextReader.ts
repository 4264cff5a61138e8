import { open, realpath, stat } from 'node:fs/promises';
import { redactText } from '../shared/redact.js';
import { relative, resolve, sep } from 'node:path';

export interface ContextText {
  path: string;
  text: string;
  truncated: boolean;
}

export type ContextResult = { ok: true; context: ContextText } | { ok: false; reason: string };

/**
 * Reads a query's context_file for the job, so consumers on other hosts need no file system.
 * The file must resolve inside the context root after following symlinks: the questions come
 * from another agent, and `../` or a link must not let it read the rest of the disk.
 */
export class ContextReader {
  private readonly root: string;
  private readonly forbidden: Set<string>;

  /** `forbidden`: files never handed out whatever the root, such as the bridge file and its WAL. */
  constructor(
    root: string,
    private readonly maxBytes: number,
    forbidden: string[] = [],
  ) {
    this.root = resolve(root);
    this.forbidden = new Set(forbidden.map((f) => resolve(f)));
  }

  async read(contextFile: string): Promise<ContextResult> {
    // Resolved on every read: the root may be created, moved or re-linked while autopoll runs.
    let rootReal: string;
    try {
      rootReal = await realpath(this.root);
    } catch {
      return { ok: false, reason: `the context root ${this.root} does not exist; set AUTOPOLL_CONTEXT_ROOT to a directory` };
    }
    const requested = resolve(rootReal, contextFile);
    // An absolute path may name the root as configured or as it really is (the root may be a link).
    if (!isInside(rootReal, requested) && !isInside(this.root, requested)) {
      return { ok: false, reason: `context_file ${contextFile} is outside the context root; use a file under AUTOPOLL_CONTEXT_ROOT` };
    }
    let real: string;
    try {
      real = await realpath(requested);
    } catch {
      return { ok: false, reason: `context_file ${contextFile} does not exist under the context root` };
    }
    if (!isInside(rootReal, real)) {
      return { ok: false, reason: `context_file ${contextFile} leads outside the context root through a symbolic link` };
    }
    if (this.forbidden.has(real) || this.forbidden.has(resolve(requested))) {
      return { ok: false, reason: `context_file ${contextFile} is the bridge database, which holds every conversation's tokens; it is never sent` };
    }
    try {
      const { text, truncated } = await readCapped(real, this.maxBytes);
      // Redacted like a bridge message: the text travels in Redis job data and into a prompt.
      return { ok: true, context: { path: relative(rootReal, real), text: numberLines(redactText(text)), truncated } };
    } catch (err) {
      return { ok: false, reason: `context_file ${contextFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
    }
  }
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

async function readCapped(path: string, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  // stat before open: opening a FIFO would block a libuv thread until a writer shows up.
  if (!(await stat(path)).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
  const handle = await open(path, 'r');
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    const size = Math.min(stat.size, maxBytes);
    const buffer = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buffer, 0, size, 0);
    return { text: buffer.subarray(0, bytesRead).toString('utf8'), truncated: stat.size > maxBytes };
  } finally {
    await handle.close();
  }
}

/** `cat -n` style numbering, so that answers can cite file:line. */
export function numberLines(text: string): string {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((line, i) => `${String(i + 1).padStart(6)}\t${line}`).join('\n');
}
