import { round } from '../test/support/numbers.js';
import { cpuSeconds, machineCpuSeconds } from '../test/support/procStat.js';

export type CpuUse = Record<string, { cpuSec: number; percentOfOneCore: number } | null>;

/**
 * CPU used by a set of processes between `start()` and `stop()`, as seconds and as % of one
 * core; `machine` is every process on the machine (so also anything else running meanwhile).
 */
export class CpuMeter {
  private before = new Map<string, number | undefined>();
  private startedAt = 0;

  constructor(private readonly pids: Record<string, number>) {}

  start(): void {
    this.startedAt = performance.now();
    for (const [name, pid] of Object.entries(this.pids)) this.before.set(name, cpuSeconds(pid));
    this.before.set('machine', machineCpuSeconds());
  }

  stop(): CpuUse {
    const wallSec = (performance.now() - this.startedAt) / 1000;
    const out: CpuUse = {};
    const use = (a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined ? null : { cpuSec: round(b - a, 2), percentOfOneCore: round(((b - a) / wallSec) * 100, 0) };
    for (const [name, pid] of Object.entries(this.pids)) out[name] = use(this.before.get(name), cpuSeconds(pid));
    out.machine = use(this.before.get('machine'), machineCpuSeconds());
    return out;
  }
}
