import { describe, expect, it } from 'vitest';
import { descendantsOf, parseProcStat, parseVmRssKb, processTree, statCpuSeconds, ticksPerSecond, type ProcStat } from '../support/procStat.js';
import {
  addV8Metrics, commandStatsDelta, type GcEvent, median, parseCommandStats, parseGcTraceLine, parseRedisInfo, parseWalIndexHeader, type Sample, u32Delta, windowGrowth,
} from '../support/resourceSampler.js';

describe('resource sampler: parsing', () => {
  it('reads /proc/<pid>/stat, whatever the command name holds', () => {
    // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
    const tail = 'S 100 200 200 0 -1 4194560 1 2 3 4 150 25 7 3 20 0 1 0 9 0';
    expect(parseProcStat(`4242 (node) ${tail}`)).toEqual({ pid: 4242, comm: 'node', state: 'S', ppid: 100, utime: 150, stime: 25, cutime: 7, cstime: 3 });
    expect(parseProcStat(`77 (a (weird) name) ) ${tail}`)).toMatchObject({ pid: 77, comm: 'a (weird) name) ', ppid: 100, utime: 150 });
    expect(parseProcStat('garbage')).toBeUndefined();
    expect(parseProcStat('12 (short) S 1')).toBeUndefined();
  });

  it('reads VmRSS from /proc/<pid>/status', () => {
    expect(parseVmRssKb('Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t  123456 kB\nRssAnon:\t 1 kB\n')).toBe(123456);
    expect(parseVmRssKb('Name:\tkthreadd\nState:\tS (sleeping)\n')).toBeUndefined();
  });

  it('finds every descendant, however deep, and nothing else', () => {
    const parentOf = new Map([
      [1, 0], [10, 1], [11, 10], [12, 10], [13, 12], [20, 1], [21, 20], [30, 13],
    ]);
    expect(descendantsOf(10, parentOf)).toEqual([11, 12, 13, 30]);
    expect(descendantsOf(20, parentOf)).toEqual([21]);
    expect(descendantsOf(11, parentOf)).toEqual([]);
    expect(descendantsOf(99, parentOf)).toEqual([]);
    // A loop in a torn read of /proc does not hang it.
    expect(descendantsOf(5, new Map([[5, 6], [6, 5]]))).toEqual([6]);
  });

  it("takes a process's tree and its CPU from one table of /proc", () => {
    const stat = (pid: number, ppid: number, ticks: number): ProcStat => ({ pid, comm: 'x', state: 'S', ppid, utime: ticks, stime: 1, cutime: 2, cstime: 3 });
    const table = new Map([stat(1, 0, 10), stat(10, 1, 20), stat(12, 10, 30), stat(11, 12, 40), stat(20, 1, 50)].map((s) => [s.pid, s]));
    const tree = processTree(10, table);
    expect(tree.root?.utime).toBe(20);
    expect(tree.below.map((s) => s.pid)).toEqual([11, 12]);
    expect(processTree(99, table)).toEqual({ root: undefined, below: [] });
    expect(statCpuSeconds(table.get(10)!, false) * ticksPerSecond()).toBeCloseTo(21);
    expect(statCpuSeconds(table.get(10)!, true) * ticksPerSecond()).toBeCloseTo(26);
  });

  it('parses INFO and commandstats, and the difference of two commandstats', () => {
    const before = '# Stats\r\ntotal_commands_processed:100\r\n\r\n# Commandstats\r\ncmdstat_get:calls=10,usec=20,usec_per_call=2.00,rejected_calls=0,failed_calls=0\r\ncmdstat_info:calls=1,usec=5,usec_per_call=5.00\r\n';
    const after =
      '# Stats\r\ntotal_commands_processed:180\r\n# Commandstats\r\ncmdstat_get:calls=50,usec=100,usec_per_call=2.00\r\ncmdstat_evalsha:calls=30,usec=900,usec_per_call=30.00\r\ncmdstat_info:calls=1,usec=5,usec_per_call=5.00\r\n';
    expect(parseRedisInfo(after).total_commands_processed).toBe('180');
    expect(parseRedisInfo('# Server\nredis_version:7.0.15\nprocess_id:42\n')).toEqual({ redis_version: '7.0.15', process_id: '42' });
    expect(commandStatsDelta(parseCommandStats(before), parseCommandStats(after))).toEqual([
      { command: 'get', calls: 40, usec: 80 },
      { command: 'evalsha', calls: 30, usec: 900 },
    ]);
  });

  it('reads the WAL-index header, and refuses a torn one', () => {
    const header = Buffer.alloc(48);
    header.writeUInt32LE(3007000, 0); // iVersion
    header.writeUInt32LE(1234, 8); // iChange
    header.writeUInt8(1, 12); // isInit
    header.writeUInt16LE(4096, 14); // szPage
    header.writeUInt32LE(77, 16); // mxFrame
    header.writeUInt32LE(500, 20); // nPage
    header.writeUInt32BE(0xdeadbeef, 32); // salt 1, big-endian as in the WAL file
    const shm = Buffer.concat([header, header, Buffer.alloc(40)]);
    expect(parseWalIndexHeader(shm)).toEqual({ iChange: 1234, mxFrame: 77, nPage: 500, salt1: 0xdeadbeef });
    const torn = Buffer.from(shm);
    torn.writeUInt32LE(1235, 8); // the first copy updated, the second not yet
    expect(parseWalIndexHeader(torn)).toBeUndefined();
    expect(parseWalIndexHeader(Buffer.alloc(96))).toBeUndefined(); // not initialised
    expect(parseWalIndexHeader(shm.subarray(0, 60))).toBeUndefined();
  });

  it('reads node --trace-gc lines: full and young collections, nothing else', () => {
    expect(parseGcTraceLine('[10086:0x279ed4e0]     2214 ms: Mark-Compact 43.7 (71.7) -> 29.4 (72.2) MB, 16.42 / 0.21 ms  (+ 3.6 ms in 22 steps since start of marking)')).toEqual({
      atMs: 2214, full: true, usedBeforeMB: 43.7, usedAfterMB: 29.4, committedAfterMB: 72.2,
    });
    expect(parseGcTraceLine('[10086:0x279ed4e0]   105893 ms: Mark-Compact (reduce) 63.9 (93.2) -> 31.6 (53.7) MB, 121.25 / 0.05 ms')).toMatchObject({ atMs: 105893, full: true, usedAfterMB: 31.6, committedAfterMB: 53.7 });
    expect(parseGcTraceLine('[10086:0x279ed4e0]      103 ms: Scavenge 4.1 (4.2) -> 3.5 (5.2) MB, 5.47 / 0.01 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ')).toEqual({
      atMs: 103, full: false, usedBeforeMB: 4.1, usedAfterMB: 3.5, committedAfterMB: 5.2,
    });
    expect(parseGcTraceLine('[1:0x1]  50 ms: Minor Mark-Compact 4.1 (4.2) -> 3.5 (5.2) MB, 1 / 0 ms')).toMatchObject({ full: false });
    expect(parseGcTraceLine('{"level":40,"msg":"answer dropped"}')).toBeUndefined();
  });

  it('adds what V8 holds to the samples: committed heap, live heap, RSS without the heap slack', () => {
    const gc = (atMs: number, full: boolean, usedAfterMB: number, committedAfterMB: number): GcEvent => ({ atMs, full, usedBeforeMB: 0, usedAfterMB, committedAfterMB });
    const samples: Sample[] = [0.5, 1.5, 2.5, 3.5].map((t) => ({ t, progress: t / 4, values: { 'p.rssKb': 200_000 } }));
    // The process started 1 s after the sampler: its GC at 1000 ms is at t = 2 on the samples' clock.
    addV8Metrics(samples, 'p', [gc(200, false, 10, 50), gc(1000, true, 30, 100), gc(2300, false, 60, 120)], 1);
    expect(samples.map((s) => s.values)).toEqual([
      { 'p.rssKb': 200_000 }, // before any collection
      { 'p.rssKb': 200_000, 'p.heapCommittedKb': 50 * 1024 }, // a young one only: no live size yet
      { 'p.rssKb': 200_000, 'p.heapCommittedKb': 100 * 1024, 'p.liveHeapKb': 30 * 1024, 'p.heldRssKb': 200_000 - 70 * 1024 },
      { 'p.rssKb': 200_000, 'p.heapCommittedKb': 120 * 1024, 'p.liveHeapKb': 30 * 1024, 'p.heldRssKb': 200_000 - 90 * 1024 },
    ]);
  });

  it('counts a u32 counter across one wrap', () => {
    expect(u32Delta(10, 25)).toBe(15);
    expect(u32Delta(2 ** 32 - 5, 3)).toBe(8);
  });
});

describe('resource sampler: statistics', () => {
  it('median', () => {
    expect(median([])).toBeUndefined();
    expect(median([5])).toBe(5);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  const options = { warmup: 0.2, window: 0.2, minSamples: 3 };
  /** n samples evenly over progress 0..1, the metric given by `value(progress, i)`. */
  const series = (n: number, value: (p: number, i: number) => number): Sample[] =>
    Array.from({ length: n }, (_, i) => ({ t: i, progress: i / (n - 1), values: { m: value(i / (n - 1), i) } }));

  it('compares the median of the last window with the first after warm-up, by progress', () => {
    // Warm-up from 100 to 200, then flat at 200 with a GC sawtooth of +-30.
    const g = windowGrowth(series(101, (p, i) => (p < 0.2 ? 100 + p * 500 : 200 + ((i % 3) - 1) * 30)), 'm', options);
    expect(g.first).toMatchObject({ from: 0.2, to: 0.4, samples: 20 });
    expect(g.last).toMatchObject({ from: 0.8, to: 1, samples: 21 });
    expect(g.growth).toBe(0);
  });

  it('sees a steady leak, and is not fooled by a few spikes', () => {
    const leak = windowGrowth(series(101, (p) => 100 + 50 * p), 'm', options);
    // first window median at p=0.3 (115), last at p=0.9 (145)
    expect(leak.growth).toBeCloseTo(30 / 115, 2);
    const spikes = windowGrowth(series(101, (_p, i) => (i % 10 === 0 ? 1000 : 100)), 'm', options);
    expect(spikes.growth).toBe(0);
  });

  it('windows are cut by progress, not by time: a slow end does not stretch the last window', () => {
    const samples: Sample[] = [
      ...series(50, () => 100).map((s) => ({ ...s, progress: s.progress * 0.8 })),
      // the last 20% took as long as the rest, at the same level
      ...Array.from({ length: 200 }, (_, i) => ({ t: 50 + i, progress: 0.8 + (0.2 * i) / 199, values: { m: 100 } })),
    ];
    const g = windowGrowth(samples, 'm', options);
    expect(g.first.samples).toBeGreaterThan(10);
    expect(g.last.samples).toBe(201); // the first part's last sample is at exactly 0.8
    expect(g.growth).toBe(0);
  });

  it('from nothing to something is infinite growth; nothing to nothing is none', () => {
    expect(windowGrowth(series(50, (p) => (p > 0.9 ? 1 : 0)), 'm', options).growth).toBe(Infinity);
    expect(windowGrowth(series(50, () => 0), 'm', options).growth).toBe(0);
  });

  it('gives no verdict on too few samples, or a metric never sampled', () => {
    expect(windowGrowth(series(8, () => 1), 'm', options).growth).toBeNull();
    expect(windowGrowth(series(100, () => 1), 'other', options)).toMatchObject({ growth: null, first: { samples: 0, median: null } });
  });
});
