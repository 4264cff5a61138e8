/**
 * CPU and memory of a process and everything below it, read from /proc: what an idle consumer
 * costs with the Claude Code processes it started.
 */
import { isClaudeChildOf } from '../../test/support/claudeProcesses.js';
import { processTree, rssKb, statCpuSeconds } from '../../test/support/procStat.js';

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
  const tree = processTree(root);
  const rss = [root, ...tree.below.map((p) => p.pid)].reduce((kb, pid) => kb + (rssKb(pid) ?? 0), 0);
  return {
    rootSec: tree.root ? statCpuSeconds(tree.root, true) : 0,
    belowSec: tree.below.reduce((s, p) => s + statCpuSeconds(p, true), 0),
    processes: tree.below.length,
    // A session is a direct child (Claude Code may start helpers of its own name); an exited one not yet reaped (a zombie) runs nothing.
    claude: tree.below.filter((p) => isClaudeChildOf(p, root) && p.state !== 'Z').length,
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
