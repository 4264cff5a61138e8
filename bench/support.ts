/**
 * Plumbing shared by the benchmarks: child processes of the built CLI, polling waits with
 * deadlines, a cleanup stack that also runs on signals and on the global watchdog, CPU time
 * from /proc, percentiles and table formatting.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { nowMicros } from '../src/shared/timestamp.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = resolve(REPO, 'dist/cli/main.js');

/** Wall-clock milliseconds with a sub-millisecond fraction, on the same clock the producer stamps rows with. */
export function nowMs(): number {
  return nowMicros() / 1000;
}

// ---------------------------------------------------------------- cleanup

type Task = () => Promise<void> | void;

/** LIFO stack of cleanup tasks; each runs once, errors are reported and do not stop the others. */
export class CleanupStack {
  private tasks: Array<{ what: string; fn: Task }> = [];

  add(what: string, fn: Task): () => Promise<void> {
    const entry = { what, fn };
    this.tasks.push(entry);
    return async () => {
      const i = this.tasks.indexOf(entry);
      if (i < 0) return;
      this.tasks.splice(i, 1);
      await runTask(entry);
    };
  }

  async runAll(): Promise<void> {
    while (this.tasks.length) await runTask(this.tasks.pop()!);
  }
}

async function runTask(entry: { what: string; fn: Task }): Promise<void> {
  try {
    await entry.fn();
  } catch (err) {
    process.stderr.write(`bench cleanup: ${entry.what} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}

/** Everything a benchmark started; run by the entry point at the end, on a signal, or on the watchdog. */
export const cleanup = new CleanupStack();

// ---------------------------------------------------------------- child processes

export interface ServiceOptions {
  name: string;
  /** Arguments after `node dist/cli/main.js`. */
  args: string[];
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

/** A child process of the built CLI, its output kept (last lines) for diagnostics. */
export class Service {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly tail: string[] = [];
  private partial = '';
  /** pino lines at warn (40) or above. */
  warnings = 0;
  errors = 0;

  private constructor(readonly name: string, options: ServiceOptions) {
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, ...options.args], {
      cwd: REPO,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((r) => this.child.once('exit', (code, signal) => r({ code, signal })));
    this.child.once('error', (err) => this.keep(`spawn error: ${err.message}`));
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => this.onData(d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => this.onData(d));
  }

  static start(options: ServiceOptions): Service {
    const service = new Service(options.name, options);
    cleanup.add(`stop ${options.name}`, () => service.stop());
    return service;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines the process printed. */
  output(): string {
    return [...this.tail, this.partial].filter(Boolean).join('\n');
  }

  /** Throws with the process's output when it has exited. */
  assertRunning(): void {
    if (!this.running) {
      throw new Error(`${this.name} exited (code ${this.child.exitCode}, signal ${this.child.signalCode}); its last output:\n${this.output()}`);
    }
  }

  /** SIGTERM, then SIGKILL when it has not exited within `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const done = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!done) {
      process.stderr.write(`bench: ${this.name} (pid ${this.pid}) did not stop within ${timeoutMs} ms of SIGTERM; killing it\n`);
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  private onData(data: string): void {
    const lines = (this.partial + data).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.keep(line);
  }

  private keep(line: string): void {
    if (!line) return;
    try {
      const level = (JSON.parse(line) as { level?: number }).level ?? 0;
      if (level >= 50) this.errors++;
      else if (level >= 40) this.warnings++;
    } catch {
      // not a pino line
    }
    this.tail.push(line);
    if (this.tail.length > 40) this.tail.shift();
  }
}

// ---------------------------------------------------------------- waiting

export class WaitTimeout extends Error {}

/**
 * Polls `check` until it returns something other than undefined/false. Throws WaitTimeout after
 * `timeoutMs`; rethrows at once when a guarded service has exited.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeoutMs: number; everyMs?: number; guard?: Service[] },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    for (const s of options.guard ?? []) s.assertRunning();
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new WaitTimeout(`timed out after ${options.timeoutMs} ms waiting for ${what}`);
    await sleep(options.everyMs ?? 20);
  }
}

// ---------------------------------------------------------------- CPU

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds a process has used so far (Linux /proc); undefined elsewhere or once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  if (pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** CPU used by a set of processes between `start()` and `stop()`, as seconds and as % of one core. */
export class CpuMeter {
  private before = new Map<string, number | undefined>();
  private startedAt = 0;

  constructor(private readonly pids: Record<string, number>) {}

  start(): void {
    this.startedAt = performance.now();
    for (const [name, pid] of Object.entries(this.pids)) this.before.set(name, cpuSeconds(pid));
  }

  stop(): Record<string, { cpuSec: number; percentOfOneCore: number } | null> {
    const wallSec = (performance.now() - this.startedAt) / 1000;
    const out: Record<string, { cpuSec: number; percentOfOneCore: number } | null> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const a = this.before.get(name);
      const b = cpuSeconds(pid);
      out[name] = a === undefined || b === undefined ? null : { cpuSec: round(b - a, 2), percentOfOneCore: round(((b - a) / wallSec) * 100, 0) };
    }
    return out;
  }
}

// ---------------------------------------------------------------- numbers

export interface Distribution {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles, in the unit of the values, rounded to 0.1. */
export function distribution(values: number[]): Distribution | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return {
    n: sorted.length,
    min: round(sorted[0]!, 1),
    p50: round(at(50), 1),
    p90: round(at(90), 1),
    p99: round(at(99), 1),
    max: round(sorted[sorted.length - 1]!, 1),
    mean: round(sorted.reduce((s, v) => s + v, 0) / sorted.length, 1),
  };
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A plain text table: first row is the header; columns left-aligned, padded. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((cell, c) => (cell ?? '').padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}
