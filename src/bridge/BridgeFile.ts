import { statSync } from 'node:fs';

/** Which file a path names: device and inode, as the kernel knows it (not its spelling). */
export interface FileIdentity {
  dev: number;
  ino: number;
}

export function fileIdentity(path: string): FileIdentity | undefined {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? { dev: st.dev, ino: st.ino } : undefined;
}

/**
 * Why the file at `path` is no longer the one opened as `opened`, or undefined while it is. A
 * producer's open handle keeps reaching a file moved or deleted away: what it would write there
 * nobody reads, and the bridge's clients use the new file at the path.
 */
export function bridgeFileChange(path: string, opened: FileIdentity): string | undefined {
  let now: FileIdentity | undefined;
  try {
    now = fileIdentity(path);
  } catch (err) {
    return `the bridge file ${path} cannot be looked at: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (!now) return `the bridge file ${path} was deleted (or moved away) while it was open`;
  if (now.dev !== opened.dev || now.ino !== opened.ino) {
    return `the bridge file ${path} was replaced by another file (device ${now.dev} inode ${now.ino}, opened as device ${opened.dev} inode ${opened.ino})`;
  }
  return undefined;
}

/** A write refused because the bridge file it would go into is no longer the one at the path. */
export class BridgeFileLostError extends Error { override readonly name = 'BridgeFileLostError'; }
