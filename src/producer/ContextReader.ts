import { constants } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { isInside, NOTHING_OWNED, OWNED_REASON, ownedKindOf, type OwnedFiles } from '../shared/ownedFiles.js';
import { redactText } from '../shared/redact.js';

export interface ContextText {
  path: string;
  text: string;
  truncated: boolean;
}

export type ContextResult = { ok: true; context: ContextText } | { ok: false; reason: string };

/**
 * No-follow: a link swapped in after realpath is refused, not followed. Non-blocking: a FIFO opens
 * at once (and is refused as no regular file) instead of holding a libuv thread until a writer comes.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** Read past the cap, so that a secret the read would cut is still whole when redacted. */
const REDACTION_SLACK = 64 * 1024;

/**
 * Reads a query's context_file for the job, so consumers on other hosts need no file system.
 * The file must resolve inside the context root after following symlinks: the questions come
 * from another agent, and `../` or a link must not let it read the rest of the disk. The opened
 * file is then compared by identity (device, inode) with what autopoll owns: a path's spelling
 * proves nothing, as a hard link or a folder named through a link reaches the same file.
 */
export class ContextReader {
  private readonly root: string;

  /** Set once `onFirstMissing` has been called: one warning tells the operator, a thousand flood the log. */
  private missingTold = false;

  /**
   * `owned`: files never handed out whatever the root, such as the bridge file and its WAL.
   * `onFirstMissing`: told of the first context_file not found under the root (a wrong root, as
   * after an upgrade, shows as exactly this).
   */
  constructor(
    root: string,
    private readonly maxBytes: number,
    private readonly owned: OwnedFiles = NOTHING_OWNED,
    private readonly onFirstMissing: (contextFile: string, root: string) => void = () => {},
  ) {
    this.root = resolve(root);
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
      if (!this.missingTold) {
        this.missingTold = true;
        this.onFirstMissing(contextFile, this.root);
      }
      return { ok: false, reason: `context_file ${contextFile} does not exist under the context root` };
    }
    if (!isInside(rootReal, real)) {
      return { ok: false, reason: `context_file ${contextFile} leads outside the context root through a symbolic link` };
    }
    let handle: FileHandle;
    try {
      handle = await open(real, OPEN_FLAGS);
    } catch (err) {
      return { ok: false, reason: `context_file ${contextFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
    }
    try {
      const refusal = await this.refusal(handle, real);
      if (refusal !== undefined) return { ok: false, reason: `context_file ${contextFile} ${refusal}` };
      const { text, truncated } = await readCapped(handle, this.maxBytes);
      return { ok: true, context: { path: relative(rootReal, real), text, truncated } };
    } catch (err) {
      return { ok: false, reason: `context_file ${contextFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
    } finally {
      await handle.close();
    }
  }

  /** Why the opened file must not be sent, judged on the handle (what will be read), not on the path. */
  private async refusal(handle: FileHandle, real: string): Promise<string | undefined> {
    const opened = await handle.stat({ bigint: true });
    if (!opened.isFile()) return 'is not a regular file (a folder, FIFO, device or socket); only regular files are read';
    // Between realpath and open a folder on the way may have been swapped for a link: the path
    // must still lead, inside the root as it is now, to the very file that was opened.
    const [rootNow, realNow] = await Promise.all([realpath(this.root), realpath(real)]);
    const atPath = await stat(realNow, { bigint: true });
    if (atPath.dev !== opened.dev || atPath.ino !== opened.ino || !isInside(rootNow, realNow)) {
      return 'changed while it was opened (a link or rename on its way); ask again';
    }
    const owned = await ownedKindOf(opened, realNow, this.owned);
    return owned === undefined ? undefined : OWNED_REASON[owned];
  }
}

/**
 * The job's context: read, redacted like a bridge message (the text travels in Redis job data and
 * into a prompt), numbered, then cut to `maxBytes`: the cap bounds what the job carries, not the
 * file. The cut keeps whole lines when at least one fits.
 */
async function readCapped(handle: FileHandle, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  const { size } = await handle.stat();
  const want = Math.min(size, maxBytes + REDACTION_SLACK);
  const buffer = Buffer.alloc(want);
  const { bytesRead } = await handle.read(buffer, 0, want, 0);
  let raw = buffer.subarray(0, bytesRead).toString('utf8');
  const cutByRead = size > bytesRead;
  if (cutByRead) {
    // The last line read is partial (maybe half a character): dropped, as the cap below cuts before it anyway.
    const nl = raw.lastIndexOf('\n');
    if (nl >= 0) raw = raw.slice(0, nl + 1);
  }
  const numbered = numberLines(redactText(raw));
  const text = capBytes(numbered, maxBytes);
  return { text, truncated: cutByRead || text.length !== numbered.length };
}

/** The longest prefix of at most `maxBytes` UTF-8 bytes, ending at a line's end when one fits, never inside a character. */
export function capBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  const prefix = bytes.subarray(0, end).toString('utf8');
  const nl = prefix.lastIndexOf('\n');
  return nl > 0 ? prefix.slice(0, nl) : prefix;
}

/** `cat -n` style numbering, so that answers can cite file:line. */
export function numberLines(text: string): string {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((line, i) => `${String(i + 1).padStart(6)}\t${line}`).join('\n');
}
