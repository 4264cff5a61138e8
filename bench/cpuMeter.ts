import { round } from '../test/support/numbers.js';
import { cpuSeconds, machineCpuSeconds } from '../test/support/procStat.js';

export interface CpuFigure {
  cpuSec: number;
  /** Percent of one core over the span's wall time. */
  percentOfOneCore: number;
}

export type CpuUse = Record<string, CpuFigure | null>;

/** CPU used between two readings of CPU seconds `wallSec` apart; null when either is missing (the process was gone). */
export function cpuFigure(a: number | undefined, b: number | undefined, wallSec: number): CpuFigure | null {
  return a === undefined || b === undefined ? null : { cpuSec: round(b - a, 2), percentOfOneCore: round(((b - a) / wallSec) * 100, 0) };
}

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
    for (const [name, pid] of Object.entries(this.pids)) out[name] = cpuFigure(this.before.get(name), cpuSeconds(pid), wallSec);
    out.machine = cpuFigure(this.before.get('machine'), machineCpuSeconds(), wallSec);
    return out;
  }
}
