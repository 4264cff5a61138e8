import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { AutopollProcess } from '../../support/cli.js';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryRun(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ipv4(text: string): number {
  return text.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** Whether the network `base/bits` overlaps an address or route this host (any namespace's view from here) already has. */
function overlapsInUse(base: string, bits: number): boolean {
  const inUse = ip('-o', '-4', 'addr', 'show') + ip('-4', 'route', 'show', 'table', 'all');
  const size = 2 ** (32 - bits);
  const lo = ipv4(base);
  for (const m of inUse.matchAll(/(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/g)) {
    const otherBits = m[2] === undefined ? 32 : Number(m[2]);
    if (otherBits === 0) continue; // a default route is no clash
    const otherSize = 2 ** (32 - otherBits);
    const otherLo = Math.floor(ipv4(m[1]!) / otherSize) * otherSize;
    if (otherLo < lo + size && lo < otherLo + otherSize) return true;
  }
  return false;
}

/** How a partition silences the link, best first (what the kernel here supports decides). */
export type PartitionMethod = 'netem loss 100%' | 'pfifo limit 0' | 'link down';

/**
 * A network namespace joined to the host by a veth pair (/30 of 10.231.0.0/16, picked at random
 * and checked against the addresses in use), for a process that reaches the host's services
 * only over that link. `partition()` silences the link in both directions (packets vanish, no
 * error reaches either end), `heal()` restores it.
 */
export class NetnsLink {
  method: PartitionMethod | undefined;

  private constructor(
    readonly ns: string,
    readonly hostIf: string,
    readonly nsIf: string,
    readonly hostAddr: string,
    readonly nsAddr: string,
  ) {}

  static create(): NetnsLink {
    for (let tries = 0; ; tries++) {
      const tag = randomBytes(4).toString('hex');
      const x = randomInt(0, 256);
      const y = randomInt(0, 64) * 4;
      const hostAddr = `10.231.${x}.${y + 1}`;
      const nsAddr = `10.231.${x}.${y + 2}`;
      if (overlapsInUse(`10.231.${x}.${y}`, 30)) continue;
      const link = new NetnsLink(`ap-${tag}`, `aph${tag}`, `apn${tag}`, hostAddr, nsAddr);
      try {
        link.setUp();
        return link;
      } catch (err) {
        link.destroy();
        if (tries >= 5) throw err;
      }
    }
  }

  private setUp(): void {
    ip('netns', 'add', this.ns);
    ip('link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', this.nsIf);
    ip('link', 'set', this.nsIf, 'netns', this.ns);
    ip('addr', 'add', `${this.hostAddr}/30`, 'dev', this.hostIf);
    ip('link', 'set', this.hostIf, 'up');
    ip('netns', 'exec', this.ns, 'ip', 'addr', 'add', `${this.nsAddr}/30`, 'dev', this.nsIf);
    ip('netns', 'exec', this.ns, 'ip', 'link', 'set', this.nsIf, 'up');
    ip('netns', 'exec', this.ns, 'ip', 'link', 'set', 'lo', 'up');
  }

  /** Silences the link both ways: each veth end drops everything it would send. */
  partition(): PartitionMethod {
    const both = (args: string[]) => tryRun('tc', ['qdisc', 'replace', 'dev', this.hostIf, 'root', ...args]) && tryRun('ip', ['netns', 'exec', this.ns, 'tc', 'qdisc', 'replace', 'dev', this.nsIf, 'root', ...args]);
    if (both(['netem', 'loss', '100%'])) this.method = 'netem loss 100%';
    // No netem module: a FIFO of length 0 drops every packet just as silently.
    else if (both(['pfifo', 'limit', '0'])) this.method = 'pfifo limit 0';
    else {
      this.clearQdiscs();
      ip('link', 'set', this.hostIf, 'down');
      this.method = 'link down';
    }
    return this.method;
  }

  heal(): void {
    if (this.method === 'link down') ip('link', 'set', this.hostIf, 'up');
    else this.clearQdiscs();
    this.method = undefined;
  }

  private clearQdiscs(): void {
    tryRun('tc', ['qdisc', 'del', 'dev', this.hostIf, 'root']);
    tryRun('ip', ['netns', 'exec', this.ns, 'tc', 'qdisc', 'del', 'dev', this.nsIf, 'root']);
  }

  /** Removes the veth pair (both ends) and the namespace; safe to call twice. */
  destroy(): void {
    tryRun('ip', ['link', 'del', this.hostIf]);
    tryRun('ip', ['netns', 'del', this.ns]);
  }

  /** Whether anything of it is left on the host. */
  leftovers(): string[] {
    const left: string[] = [];
    if (ip('netns', 'list').split('\n').some((l) => l.split(' ')[0] === this.ns)) left.push(`netns ${this.ns}`);
    if (tryRun('ip', ['link', 'show', this.hostIf])) left.push(`link ${this.hostIf}`);
    return left;
  }
}

/**
 * The built `autopoll` CLI run inside a network namespace (`ip netns exec` keeps the environment
 * and execs, so the child is node itself).
 */
export class NamespacedAutopoll extends AutopollProcess {
  constructor(ns: string, args: string[], env: Record<string, string | undefined> = {}) {
    super(args, env, { launcher: ['ip', 'netns', 'exec', ns] });
  }
}
