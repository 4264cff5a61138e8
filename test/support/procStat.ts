/**
 * What Linux's /proc says of processes and of the machine: CPU time, RSS, descriptors, parents.
 * Read by the soak's sampler and by the benchmarks; undefined where /proc is not (or once a
 * process is gone).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, Z, ... */
  state: string;
  ppid: number;
  /** Clock ticks (CLK_TCK) the process itself ran in user and kernel mode. */
  utime: number;
  stime: number;
  /** Clock ticks of the children it has waited for (reaped), in user and kernel mode. */
  cutime: number;
  cstime: number;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself hold
 * spaces and parentheses, so the fields after it are read from the last ')'.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // fields[0] is field 3 (state); ppid is field 4; utime, stime, cutime, cstime are fields 14-17.
  const fields = text.slice(close + 2).trim().split(' ');
  if (fields.length < 15 || !Number.isInteger(pid)) return undefined;
  const n = (i: number) => Number(fields[i]);
  return { pid, comm: text.slice(open + 1, close), state: fields[0]!, ppid: n(1), utime: n(11), stime: n(12), cutime: n(13), cstime: n(14) };
}

/** VmRSS of /proc/<pid>/status, in kB; undefined when absent (a zombie, a kernel thread). */
export function parseVmRssKb(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) : undefined;
}

/** Every live process: pid -> its stat (zombies included; they hold a pid, no memory). */
export function processTable(): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (stat) out.set(stat.pid, stat);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Every descendant of `root` (children, their children, ...) in a pid -> parent pid map. */
export function descendantsOf(root: number, parentOf: ReadonlyMap<number, number>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parentOf) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const out: number[] = [];
  const todo = [...(children.get(root) ?? [])];
  const seen = new Set<number>([root]);
  while (todo.length) {
    const pid = todo.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out.sort((a, b) => a - b);
}

/**
 * A process's stat and those of every live process below it (its children, theirs, ...; by pid),
 * from one read of /proc or the table given; no root when it is gone.
 */
export function processTree(root: number, table = processTable()): { root: ProcStat | undefined; below: ProcStat[] } {
  const parentOf = new Map([...table.values()].map((s) => [s.pid, s.ppid]));
  return { root: table.get(root), below: descendantsOf(root, parentOf).map((pid) => table.get(pid)!) };
}

/** RSS in kB, or undefined once gone. */
export function rssKb(pid: number): number | undefined {
  try {
    return parseVmRssKb(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Open descriptors (entries of /proc/<pid>/fd), or undefined once gone. */
export function openFds(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

let clockTicks: number | undefined;

/** CLK_TCK: the unit of utime/stime in /proc/<pid>/stat. */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** /proc/<pid>/stat, or undefined once the process is gone. */
export function processStat(pid: number | 'self'): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** CPU seconds in a stat: the process's own (user + system), or with the children it has waited for too. */
export function statCpuSeconds(s: ProcStat, withChildren: boolean): number {
  return (s.utime + s.stime + (withChildren ? s.cutime + s.cstime : 0)) / ticksPerSecond();
}

/** User + system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number): number | undefined {
  if (pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
  const s = processStat(pid);
  return s && statCpuSeconds(s, false);
}

/**
 * CPU seconds of a process and of the children it has already waited for (utime, stime, cutime,
 * cstime). Children that exited during a phase show up in the parent's figure, so the difference
 * over a phase covers short-lived processes too.
 */
export function cpuSecondsWithChildren(pid: number | 'self'): number | undefined {
  const s = processStat(pid);
  return s && statCpuSeconds(s, true);
}

/** The parent pid of a process. */
export function parentPid(pid: number): number | undefined {
  return processStat(pid)?.ppid;
}

/** Busy CPU seconds of the whole machine, all cores (/proc/stat: all but idle and iowait). */
export function machineCpuSeconds(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - (fields[3] ?? 0) - (fields[4] ?? 0)) / ticksPerSecond();
  } catch {
    return undefined;
  }
}
