/**
 * Resource sampling for the soak (test/chaos/soak.chaos.test.ts), Linux /proc only (procStat.ts):
 * RSS, open descriptors, descendants and CPU time of a few root processes (producer, consumers,
 * redis-server) and of everything they started (Claude Code sessions), plus the readers for the
 * per-question figures: Redis INFO and the SQLite WAL-index header (commits). The statistics are
 * pure functions, tested in test/unit/resourceSampler.test.ts.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { round } from './numbers.js';
import { openFds, processTable, processTree, rssKb, statCpuSeconds, ticksPerSecond } from './procStat.js';

// ---------------------------------------------------------------- pure: parsing

/** `INFO` text -> field -> value (section headers and blank lines skipped). */
export function parseRedisInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export interface CommandStat {
  command: string;
  calls: number;
  usec: number;
}

/** The `cmdstat_<name>:calls=..,usec=..` lines of INFO commandstats. */
export function parseCommandStats(text: string): Map<string, CommandStat> {
  const out = new Map<string, CommandStat>();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    out.set(m[1]!, { command: m[1]!, calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}

/** Per command, calls and usec of `after` minus `before` (commands not run meanwhile left out), most calls first. */
export function commandStatsDelta(before: Map<string, CommandStat>, after: Map<string, CommandStat>): CommandStat[] {
  const out: CommandStat[] = [];
  for (const [command, a] of after) {
    const b = before.get(command);
    const calls = a.calls - (b?.calls ?? 0);
    if (calls > 0) out.push({ command, calls, usec: a.usec - (b?.usec ?? 0) });
  }
  return out.sort((x, y) => y.calls - x.calls || x.command.localeCompare(y.command));
}

export interface WalIndexHeader {
  /** Incremented by every commit that wrote to the WAL, by any connection; not reset when the WAL restarts. */
  iChange: number;
  /** Frames in the current WAL generation. */
  mxFrame: number;
  /** Database size in pages after the last commit. */
  nPage: number;
  /** The WAL's first salt: incremented each time the WAL restarts from its beginning (after a full checkpoint). */
  salt1: number;
}

/**
 * The WAL-index header at the start of a `-shm` file (sqlite3.c, struct WalIndexHdr): two
 * 48-byte copies, written in native byte order (little-endian here) except the salts, kept as
 * the big-endian bytes of the WAL file. A writer updates copy 2, then copy 1; a read that finds
 * them different raced a commit and returns undefined (read again).
 */
export function parseWalIndexHeader(buf: Buffer): WalIndexHeader | undefined {
  if (buf.length < 96) return undefined;
  if (!buf.subarray(0, 48).equals(buf.subarray(48, 96))) return undefined;
  if (buf.readUInt8(12) !== 1) return undefined; // isInit
  return { iChange: buf.readUInt32LE(8), mxFrame: buf.readUInt32LE(16), nPage: buf.readUInt32LE(20), salt1: buf.readUInt32BE(32) };
}

/** A u32 counter's increase from `before` to `after`, allowing one wrap. */
export function u32Delta(before: number, after: number): number {
  return after >= before ? after - before : after + 2 ** 32 - before;
}

/** One garbage collection as `node --trace-gc` prints it. */
export interface GcEvent {
  /** Milliseconds since the process's V8 isolate started. */
  atMs: number;
  /** A full collection (Mark-Compact, also `(reduce)`): its `usedAfterMB` is the live heap. */
  full: boolean;
  usedBeforeMB: number;
  usedAfterMB: number;
  /** Heap memory V8 holds from the system (committed) after the collection. */
  committedAfterMB: number;
}

/**
 * A `--trace-gc` line, e.g. `[123:0x5d6e]    55571 ms: Mark-Compact 134.6 (162.7) -> 34.8 (136.0) MB, 40.3 / 0.0 ms ...`
 * or `... 96 ms: Scavenge 45.2 (80.0) -> 31.0 (81.0) MB, ...`; undefined for any other line.
 */
export function parseGcTraceLine(line: string): GcEvent | undefined {
  const m = /\]\s+([\d.]+) ms: ([A-Za-z][A-Za-z -]*?(?: \([a-z ]+\))?) ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/.exec(line);
  if (!m) return undefined;
  const kind = m[2]!;
  return {
    atMs: Number(m[1]),
    full: kind.startsWith('Mark-Compact') || kind.startsWith('Mark-sweep'),
    usedBeforeMB: Number(m[3]),
    usedAfterMB: Number(m[5]),
    committedAfterMB: Number(m[6]),
  };
}

/**
 * Adds to each sample of a Node process `name` what V8 says of its heap at that moment (from
 * `--trace-gc`, whose times are since the process started: `offsetSec` is the process's start on
 * the samples' clock):
 *   - `<name>.heapCommittedKb`: the heap memory V8 held after its latest collection;
 *   - `<name>.liveHeapKb`: the live heap after its latest full collection;
 *   - `<name>.heldRssKb` = RSS - (committed - live): the RSS without V8's garbage and free heap.
 * A V8 process's RSS is mostly its committed heap, which V8 sizes from its allocation rate and GC
 * speed (between 2x and 4x of the live heap, and a young generation of up to 48 MB), so RSS
 * wanders by +-20% at a steady load with a flat live heap; what it holds does not.
 */
export function addV8Metrics(samples: Sample[], name: string, events: readonly GcEvent[], offsetSec: number): void {
  const sorted = [...events].sort((a, b) => a.atMs - b.atMs);
  let i = -1;
  let lastFull: GcEvent | undefined;
  for (const s of [...samples].sort((a, b) => a.t - b.t)) {
    while (i + 1 < sorted.length && offsetSec + sorted[i + 1]!.atMs / 1000 <= s.t) {
      i++;
      if (sorted[i]!.full) lastFull = sorted[i];
    }
    const last = sorted[i];
    if (!last) continue;
    const committedKb = last.committedAfterMB * 1024;
    s.values[`${name}.heapCommittedKb`] = round(committedKb, 0);
    if (!lastFull) continue;
    const liveKb = lastFull.usedAfterMB * 1024;
    s.values[`${name}.liveHeapKb`] = round(liveKb, 0);
    const rss = s.values[`${name}.rssKb`];
    if (rss !== undefined) s.values[`${name}.heldRssKb`] = round(rss - committedKb + liveKb, 0);
  }
}

// ---------------------------------------------------------------- pure: statistics

/** The median (mean of the two middle values for an even count); undefined for no values. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** One sample: when, how far the run was (answered / asked in total, 0..1), and each metric's value. */
export interface Sample {
  /** Seconds since the sampler started. */
  t: number;
  progress: number;
  values: Record<string, number>;
}

export interface GrowthOptions {
  /** Progress before this is warm-up and not judged (e.g. 0.2: the first 20% of the questions). */
  warmup: number;
  /** Width of the two compared windows, as progress (e.g. 0.2). */
  window: number;
  /** A window needs at least this many samples for a verdict. */
  minSamples: number;
}

export interface WindowStat {
  from: number;
  to: number;
  samples: number;
  median: number | null;
}

export interface Growth {
  metric: string;
  /** The first window after warm-up: progress in [warmup, warmup + window). */
  first: WindowStat;
  /** The last window: progress in [1 - window, 1]. */
  last: WindowStat;
  /**
   * (last median - first median) / first median; 0 when both are 0, Infinity when only the first
   * is 0 (something appeared that was not there), null when a window had too few samples.
   */
  growth: number | null;
}

/**
 * Did a metric grow over the run? The statistic: the median of the samples in the last window
 * against the median of those in the first window after warm-up. Windows are cut by progress
 * (questions answered), not time, so a slower phase does not shift them; medians, because V8's
 * RSS saws up and down with its collections and a session recycle briefly adds a process and its
 * pipes: a single sample says little, the middle of 10+ says what the process holds.
 */
export function windowGrowth(samples: readonly Sample[], metric: string, o: GrowthOptions): Growth {
  const window = (from: number, to: number, inclusiveTo: boolean): WindowStat => {
    const values = samples
      .filter((s) => s.progress >= from && (inclusiveTo ? s.progress <= to : s.progress < to))
      .map((s) => s.values[metric])
      .filter((v): v is number => v !== undefined && Number.isFinite(v));
    return { from, to, samples: values.length, median: values.length ? median(values)! : null };
  };
  const first = window(o.warmup, o.warmup + o.window, false);
  const last = window(1 - o.window, 1, true);
  let growth: number | null = null;
  if (first.samples >= o.minSamples && last.samples >= o.minSamples && first.median !== null && last.median !== null) {
    if (first.median === 0) growth = last.median === 0 ? 0 : Infinity;
    else growth = (last.median - first.median) / first.median;
  }
  return { metric, first, last, growth };
}

// ---------------------------------------------------------------- reading files

/** The WAL-index header of a bridge file in WAL mode (`<db>-shm`), read until both copies agree. */
export function readWalIndex(dbPath: string): WalIndexHeader | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(`${dbPath}-shm`, 'r');
    const buf = Buffer.alloc(96);
    for (let i = 0; i < 100; i++) {
      if (readSync(fd, buf, 0, 96, 0) < 96) return undefined;
      const header = parseWalIndexHeader(buf);
      if (header) return header;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

// ---------------------------------------------------------------- the sampler

/**
 * Metrics per root process `<name>`, each sample:
 *   - `<name>.rssKb`, `<name>.fds`: the process itself;
 *   - `<name>.children`: its live descendants (zombies included: an unreaped child is a leak too);
 *   - `<name>.descRssKb`, `<name>.descFds`: summed over the live descendants;
 *   - `<name>.cpuSec`: its own user + system time; `<name>.descCpuSec`: its descendants' (the live
 *     ones' own and reaped, plus what the root has reaped), so that processes which came and went
 *     between two samples (recycled Claude Code sessions) are counted too.
 */
export class ResourceSampler {
  readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() when the sampler was made: a sample's `t` counts from here. */
  readonly t0 = performance.now();

  constructor(
    private readonly roots: Readonly<Record<string, number>>,
    /** Answered / asked in total, 0..1, for the windows. */
    private readonly progress: () => number,
    private readonly intervalMs = 1000,
    /** More values for each sample, read elsewhere (e.g. Redis INFO, polled asynchronously). */
    private readonly extra: () => Record<string, number> = () => ({}),
  ) {}

  start(): void {
    this.sampleNow();
    this.timer = setInterval(() => this.sampleNow(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample now (also called by the test at the phase's end points). */
  sampleNow(): Sample {
    const table = processTable();
    const tick = ticksPerSecond();
    const values: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.roots)) {
      const { root: self, below } = processTree(pid, table);
      if (!self) continue;
      const rss = rssKb(pid);
      const fds = openFds(pid);
      if (rss !== undefined) values[`${name}.rssKb`] = rss;
      if (fds !== undefined) values[`${name}.fds`] = fds;
      values[`${name}.cpuSec`] = statCpuSeconds(self, false);
      values[`${name}.children`] = below.length;
      let descRss = 0;
      let descFds = 0;
      let descTicks = self.cutime + self.cstime;
      for (const s of below) {
        descTicks += s.utime + s.stime + s.cutime + s.cstime;
        descRss += rssKb(s.pid) ?? 0;
        descFds += openFds(s.pid) ?? 0;
      }
      values[`${name}.descRssKb`] = descRss;
      values[`${name}.descFds`] = descFds;
      values[`${name}.descCpuSec`] = descTicks / tick;
    }
    Object.assign(values, this.extra());
    const sample = { t: round((performance.now() - this.t0) / 1000, 2), progress: Math.min(1, Math.max(0, this.progress())), values };
    this.samples.push(sample);
    return sample;
  }
}
