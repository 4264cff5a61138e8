/**
 * CPU and memory of a process and everything below it, read from /proc: what an idle consumer
 * costs with the Claude Code processes it started.
 */
import { processTable, rssKb, ticksPerSecond, type ProcStat } from '../../test/support/procStat.js';

export interface TreeSample {
  /** CPU seconds by part: the root process and the processes below it (Claude Code and what it runs). */
  rootSec: number;
  belowSec: number;
  /** Processes below the root now, and the Claude Code sessions among them. */
  processes: number;
  claude: number;
  rssMb: number;
}

/** The root and its descendants; CPU counts each live process with the children it has reaped, so none that exited is lost. */
export function sampleTree(root: number): TreeSample {
  const table = processTable();
  const below: ProcStat[] = [];
  const walk = (parent: number) => {
    for (const p of table.values()) {
      if (p.ppid !== parent) continue;
      below.push(p);
      walk(p.pid);
    }
  };
  walk(root);
  const sec = (p: ProcStat | undefined) => (p ? (p.utime + p.stime + p.cutime + p.cstime) / ticksPerSecond() : 0);
  const rss = [root, ...below.map((p) => p.pid)].reduce((kb, pid) => kb + (rssKb(pid) ?? 0), 0);
  return {
    rootSec: sec(table.get(root)),
    belowSec: below.reduce((s, p) => s + sec(p), 0),
    processes: below.length,
    // A session is a direct child (Claude Code may start helpers of its own name); an exited one not yet reaped (a zombie) runs nothing.
    claude: below.filter((p) => p.ppid === root && p.comm === 'claude' && p.state !== 'Z').length,
    rssMb: Math.round(rss / 1024),
  };
}

/** CPU milliseconds a second between two samples, by part and in all. */
export function cpuMsPerSec(a: TreeSample, b: TreeSample, wallSec: number): { total: number; consumer: number; below: number } {
  const ms = (x: number) => Math.round((x / wallSec) * 1000 * 10) / 10;
  // A process that exited between the samples moves from `below` into its parent's reaped time, which may be the root's.
  const consumer = ms(b.rootSec - a.rootSec);
  const total = ms(b.rootSec + b.belowSec - a.rootSec - a.belowSec);
  return { total, consumer, below: Math.round((total - consumer) * 10) / 10 };
}
