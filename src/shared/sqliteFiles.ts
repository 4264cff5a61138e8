import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** The first bytes of an SQLite database, of its write-ahead log (two byte orders) and of its rollback journal. */
const MAGICS = [
  Buffer.from('SQLite format 3\0', 'latin1'),
  Buffer.from([0x37, 0x7f, 0x06, 0x82]),
  Buffer.from([0x37, 0x7f, 0x06, 0x83]),
  Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]),
];

/**
 * Whether a file holds SQLite pages: a database, its -wal or its -journal. Any of them may be the
 * bridge's, under any name; telling a bridge from another database would mean opening it with
 * SQLite, which may create a -shm beside it or fail on a WAL file this user cannot write.
 */
export async function holdsSqlitePages(path: string): Promise<boolean> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (handle === undefined) return false;
  try {
    if (!(await handle.stat()).isFile()) return false;
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, 16, 0);
    return MAGICS.some((m) => bytesRead >= m.length && head.subarray(0, m.length).equals(m));
  } finally {
    await handle.close();
  }
}
