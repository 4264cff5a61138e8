/**
 * CPU and memory of one autopoll host while it answers: CPU by process (producer, the consumer's
 * node process, its Claude Code processes together, redis-server, the bench that serves the fake
 * API, and the machine), and the RSS of each Claude Code session, sampled from /proc.
 */
import { claudeChildren, isClaudeChildOf } from '../../test/support/claudeProcesses.js';
import { round } from '../../test/support/numbers.js';
import { cpuSeconds, machineCpuSeconds, processTree, rssKb, statCpuSeconds } from '../../test/support/procStat.js';
import { type Distribution, distribution } from '../numbers.js';
import { Sampler } from '../sampler.js';

export const CPU_PARTS = ['producer', 'consumer', 'claude', 'redis', 'bench', 'machine'] as const;
export type CpuPart = (typeof CPU_PARTS)[number];

export interface HostPids {
  producer: number;
  consumer: number;
  redis: number;
}

export interface HostUse {
  /** Seconds between start() and stop(). */
  wallSec: number;
  /** CPU seconds of each part over the measurement. */
  cpuSec: Record<CpuPart, number | null>;
  /** Each Claude Code session's largest RSS over the measurement, MB. */
  rssPerSessionMB: Distribution | null;
  /** The sessions' RSS added up at its largest sample, MB. */
  rssTotalMB: number | null;
}

export class HostMeter {
  private before: Record<CpuPart, number | undefined> | undefined;
  private startedAt = 0;
  private readonly peakKb = new Map<number, number>();
  private peakTotalKb = 0;
  private readonly sampler = new Sampler(500, async () => this.sampleRss());

  constructor(private readonly pids: HostPids) {}

  start(): void {
    this.startedAt = performance.now();
    this.before = this.cpu();
    this.sampleRss();
    this.sampler.start();
  }

  async stop(): Promise<HostUse> {
    await this.sampler.stop();
    this.sampleRss();
    const after = this.cpu();
    const cpuSec = Object.fromEntries(
      CPU_PARTS.map((part) => {
        const a = this.before?.[part];
        const b = after[part];
        return [part, a === undefined || b === undefined ? null : round(b - a, 2)];
      }),
    ) as Record<CpuPart, number | null>;
    const peaks = [...this.peakKb.values()].map((kb) => kb / 1024);
    return { wallSec: round((performance.now() - this.startedAt) / 1000, 2), cpuSec, rssPerSessionMB: distribution(peaks), rssTotalMB: peaks.length ? round(this.peakTotalKb / 1024, 0) : null };
  }

  /**
   * The consumer's Claude Code processes: those it has waited for (in its cutime/cstime) and
   * those running now, with whatever they waited for.
   */
  private cpu(): Record<CpuPart, number | undefined> {
    const { root, below } = processTree(this.pids.consumer);
    const live = below.filter((p) => isClaudeChildOf(p, this.pids.consumer)).reduce((sum, p) => sum + statCpuSeconds(p, true), 0);
    return {
      producer: cpuSeconds(this.pids.producer),
      consumer: root && statCpuSeconds(root, false),
      claude: root && statCpuSeconds(root, true) - statCpuSeconds(root, false) + live,
      redis: cpuSeconds(this.pids.redis),
      bench: cpuSeconds(process.pid),
      machine: machineCpuSeconds(),
    };
  }

  private sampleRss(): void {
    let total = 0;
    for (const pid of claudeChildren(this.pids.consumer)) {
      const kb = rssKb(pid);
      if (kb === undefined) continue;
      total += kb;
      this.peakKb.set(pid, Math.max(kb, this.peakKb.get(pid) ?? 0));
    }
    this.peakTotalKb = Math.max(this.peakTotalKb, total);
  }
}
