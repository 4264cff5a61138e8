import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { endianness } from 'node:os';

/** One listening TCP socket of /proc/net/tcp or tcp6: who owns it, not what it says about itself. */
export interface Listener {
  /** Dotted IPv4 (an IPv4-mapped IPv6 address too), else the IPv6 address as 32 hex digits. */
  address: string;
  port: number;
  uid: number;
  inode: number;
}

/** The addresses whose listener takes a connection to 127.0.0.1: itself and the IPv4 and IPv6 wildcards. */
const REACHES_LOOPBACK = new Set(['127.0.0.1', '0.0.0.0', '0'.repeat(32)]);
const LISTEN = '0A';

/**
 * The LISTEN sockets of /proc/net/tcp or /proc/net/tcp6 text. The kernel prints each 32-bit word of
 * an address in the host's byte order (the port is big-endian hex).
 */
export function parseListeners(text: string, littleEndian = endianness() === 'LE'): Listener[] {
  const listeners: Listener[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== LISTEN) continue;
    const [hexAddress, hexPort] = fields[1]!.split(':');
    if (hexAddress === undefined || hexPort === undefined) continue;
    listeners.push({ address: addressOf(hexAddress, littleEndian), port: parseInt(hexPort, 16), uid: Number(fields[7]), inode: Number(fields[9]) });
  }
  return listeners;
}

function addressOf(hex: string, littleEndian: boolean): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bigEndian = words.map((w) => (littleEndian ? w.match(/../g)!.reverse().join('') : w)).join('').toLowerCase();
  const dotted = (h: string) => (h.match(/../g) ?? []).map((b) => parseInt(b, 16)).join('.');
  if (bigEndian.length === 8) return dotted(bigEndian);
  return bigEndian.startsWith(`${'0'.repeat(20)}ffff`) ? dotted(bigEndian.slice(24)) : bigEndian;
}

/** The listeners among `listeners` that take a connection to 127.0.0.1:`port`. */
export function loopbackListeners(listeners: Listener[], port: number): Listener[] {
  return listeners.filter((l) => l.port === port && REACHES_LOOPBACK.has(l.address));
}

/** The sockets listening for 127.0.0.1:`port` in this network namespace, as the kernel reports them. */
export function listenersOn(port: number): Listener[] {
  const all = ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) => {
    try {
      return parseListeners(readFileSync(file, 'utf8'));
    } catch {
      return [];
    }
  });
  return loopbackListeners(all, port);
}

/** The inodes of the sockets process `pid` holds open (its /proc/PID/fd links socket:[INODE]). */
export function socketInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(Number(m[1]));
      } catch {
        // closed since the listing
      }
    }
  } catch {
    // gone, or not ours to read
  }
  return inodes;
}

/** The uid of the system `redis` user (/etc/passwd), undefined when there is none. */
export function systemRedisUid(passwd = '/etc/passwd'): number | undefined {
  try {
    const line = readFileSync(passwd, 'utf8').split('\n').find((l) => l.startsWith('redis:'));
    const uid = line?.split(':')[2];
    return uid !== undefined && /^\d+$/.test(uid) ? Number(uid) : undefined;
  } catch {
    return undefined;
  }
}
