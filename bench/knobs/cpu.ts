/**
 * Claude Code's CPU to the nanosecond: a turn costs a few 10 ms ticks, so /proc/<pid>/stat's
 * utime/stime (tick-counted) would quantize it to ±10 ms a reading. The scheduler's own runtime
 * per thread (/proc/<pid>/task/<tid>/schedstat, ns) is summed instead, plus the children the
 * process has reaped (from stat: they are whole processes, where a tick matters less).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseProcStat, ticksPerSecond } from '../../test/support/procStat.js';

/** CPU seconds of a live process's threads and its reaped children; undefined once it is gone. */
export function preciseCpuSeconds(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
    const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return ns / 1e9 + (stat ? (stat.cutime + stat.cstime) / ticksPerSecond() : 0);
  } catch {
    return undefined;
  }
}
