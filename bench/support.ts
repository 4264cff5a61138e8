/**
 * Plumbing shared by the benchmarks: child processes of the built CLI, polling waits with
 * deadlines, a cleanup stack that also runs on signals and on the global watchdog, the stack the
 * pipeline benchmarks run on (a private redis-server, a bridge file, the producer), CPU time
 * from /proc, percentiles and table formatting.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { BridgeFixture, tempDir, type Conversation } from '../test/support/bridge.js';
import { RedisServer } from '../test/support/redisServer.js';
import { ANSWERS_QUEUE, QUESTIONS_QUEUE } from '../src/shared/queues.js';
import { nowMicros } from '../src/bridge/timestamp.js';

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

/** Runs one cleanup task; a task that hangs (a close waiting on a dead Redis) is left after 20 s. */
async function runTask(entry: { what: string; fn: Task }): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timedOut = await Promise.race([
      Promise.resolve(entry.fn()).then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 20_000))),
    ]);
    if (timedOut) process.stderr.write(`bench cleanup: ${entry.what} did not finish in 20 s; going on\n`);
  } catch (err) {
    process.stderr.write(`bench cleanup: ${entry.what} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  } finally {
    clearTimeout(timer);
  }
}

/** Everything a benchmark started; run by the entry point at the end, on a signal, or on the watchdog. */
export const cleanup = new CleanupStack();

/** Temporary folders of the bench are named `<prefix><pid>-XXXXXX`, so stale ones can be told apart. */
export const BENCH_TEMP_PREFIX = 'autopoll-bench-';

/** Where a bench folder records the redis-server it started, for `removeStaleTempDirs`. */
const REDIS_RECORD = 'redis-server.json';

/** Notes in the bench folder which redis-server (pid, folder) belongs to this run. */
export function recordRedisServer(benchDir: string, pid: number, redisDir: string): void {
  writeFileSync(join(benchDir, REDIS_RECORD), JSON.stringify({ pid, dir: redisDir }));
}

/**
 * Removes bench folders left in the temp dir by a bench process that no longer runs (one that
 * was killed before it could clean up: a bridge file with old messages is hundreds of MB), and
 * stops the redis-server such a run left behind (its own pid and folder, checked, nothing else)
 * and any process still working inside the folder (the Claude benchmark's sessions). Producer
 * and consumer need no sweep: they run under setpriv --pdeathsig.
 */
export function removeStaleTempDirs(): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(tmpdir())) {
    const m = new RegExp(`^${BENCH_TEMP_PREFIX}(\\d+)-`).exec(name);
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    const dir = join(tmpdir(), name);
    try {
      const redis = JSON.parse(readFileSync(join(dir, REDIS_RECORD), 'utf8')) as { pid: number; dir: string };
      if (readlinkSync(`/proc/${redis.pid}/cwd`) === redis.dir && readFileSync(`/proc/${redis.pid}/cmdline`, 'utf8').startsWith('redis-server')) {
        process.kill(redis.pid, 'SIGTERM');
      }
      rmSync(redis.dir, { recursive: true, force: true });
    } catch {
      // no record, or that redis-server is gone already
    }
    killProcessesIn(dir);
    rmSync(dir, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * SIGKILLs the processes whose working directory is inside `dir`: Claude Code sessions of a
 * bench that was killed (they run in their own process group, without --pdeathsig, and one that
 * is mid-turn keeps retrying the gone API instead of exiting).
 */
function killProcessesIn(dir: string): void {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`)) process.kill(Number(name), 'SIGKILL');
    } catch {
      // gone, or not ours to read
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

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
  /** The first few warn/error messages, for the report. */
  readonly notable: string[] = [];
  /** How many pino lines carried each message (`msg`), e.g. 'consumer started'. */
  readonly logged = new Map<string, number>();

  private constructor(readonly name: string, options: ServiceOptions) {
    // setpriv --pdeathsig: the child gets SIGTERM should the bench die without cleaning up (SIGKILL).
    const argv = [process.execPath, ...(options.nodeArgs ?? []), CLI, ...options.args];
    const [command, ...args] = hasSetpriv() ? ['setpriv', '--pdeathsig', 'SIGTERM', '--', ...argv] : argv;
    this.child = spawn(command!, args, {
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
      const entry = JSON.parse(line) as { level?: number; msg?: string; reason?: string };
      const level = entry.level ?? 0;
      if (entry.msg !== undefined) this.logged.set(entry.msg, (this.logged.get(entry.msg) ?? 0) + 1);
      if (level >= 50) this.errors++;
      else if (level >= 40) this.warnings++;
      if (level >= 40 && this.notable.length < 5) this.notable.push(`${level >= 50 ? 'error' : 'warn'}: ${entry.msg ?? line}${entry.reason ? ` (${entry.reason})` : ''}`);
    } catch {
      // not a pino line
    }
    this.tail.push(line);
    if (this.tail.length > 40) this.tail.shift();
  }
}

let setprivAvailable: boolean | undefined;

/** Whether `setpriv --pdeathsig` works here (util-linux); children are wrapped in it when it does. */
export function hasSetpriv(): boolean {
  if (setprivAvailable === undefined) {
    try {
      execFileSync('setpriv', ['--pdeathsig', 'SIGTERM', '--', 'true'], { stdio: 'ignore' });
      setprivAvailable = true;
    } catch {
      setprivAvailable = false;
    }
  }
  return setprivAvailable;
}

// ---------------------------------------------------------------- the pipeline stack

/**
 * What the pipeline benchmarks run on: a temp folder, a private redis-server (never the one on
 * 6379), a bench connection to it with the two queues, and a bridge file the bench writes as side
 * `a`. The producer and the consumers are started on it; `close()` stops all of it.
 */
export class BenchStack {
  private constructor(
    private readonly undo: Array<() => Promise<void>>,
    readonly dir: string,
    readonly redis: RedisServer,
    readonly client: Redis,
    readonly redisPid: number,
    readonly bridge: BridgeFixture,
    /** BullMQ prefix of this stack's queues. */
    readonly prefix: string,
    readonly questions: Queue,
    readonly answers: Queue,
  ) {}

  /** `tag` names the prefix (`{bench-<tag>}`) and the processes. */
  static async start(tag: string): Promise<BenchStack> {
    const undo: Array<() => Promise<void>> = [];
    try {
      const dir = tempDir(`${BENCH_TEMP_PREFIX}${process.pid}-`);
      undo.push(cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true })));
      const redis = await RedisServer.start();
      undo.push(cleanup.add('stop redis-server', () => redis.stop()));
      const client = new Redis(redis.url, { maxRetriesPerRequest: null });
      client.on('error', () => undefined);
      undo.push(cleanup.add('close the bench Redis connection', () => client.disconnect()));
      const redisPid = Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1] ?? -1);
      recordRedisServer(dir, redisPid, redis.dir);
      const bridge = BridgeFixture.create(join(dir, 'bridge.db'));
      undo.push(cleanup.add('close the bench bridge connection', () => bridge.close()));
      const prefix = `{bench-${tag}}`;
      const questions = new Queue(QUESTIONS_QUEUE, { connection: client, prefix });
      const answers = new Queue(ANSWERS_QUEUE, { connection: client, prefix });
      undo.push(cleanup.add('close the bench queues', async () => void (await Promise.all([questions.close(), answers.close()]))));
      return new BenchStack(undo, dir, redis, client, redisPid, bridge, prefix, questions, answers);
    } catch (err) {
      await runUndo(undo);
      throw err;
    }
  }

  /** The flags producer and consumer share: this stack's Redis and prefix. */
  commonArgs(logLevel = 'warn'): string[] {
    return ['--redis', this.redis.url, '--prefix', this.prefix, '--log-level', logLevel, '--shutdown-timeout', '5'];
  }

  /** Starts a CLI process that `close()` stops (in the reverse order of starting). */
  service(options: ServiceOptions): Service {
    const service = Service.start(options);
    this.undo.push(() => service.stop());
    return service;
  }

  /** Starts the producer serving `conv` and waits for its first heartbeat; the seconds that took. */
  async startProducer(conv: Conversation, options: { name: string; nodeArgs?: string[]; args?: string[] }): Promise<{ producer: Service; readySec: number }> {
    const spawnedAt = nowMs();
    const producer = this.service({
      name: options.name,
      args: ['producer', ...this.commonArgs(), '--bridge-db', this.bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`, ...(options.args ?? [])],
      nodeArgs: options.nodeArgs ?? [],
    });
    const heartbeat = this.bridge.db.prepare<[string], { ok: number }>("SELECT 1 AS ok FROM session_status WHERE conversation_id = ? AND session_id = 'b'");
    await waitFor('the producer to write its heartbeat', () => heartbeat.get(conv.id) !== undefined, { timeoutMs: 120_000, everyMs: 10, guard: [producer] });
    return { producer, readySec: round((nowMs() - spawnedAt) / 1000, 2) };
  }

  /** Stops the processes, then Redis, and removes the folder. */
  async close(): Promise<void> {
    await runUndo(this.undo.splice(0));
  }
}

async function runUndo(undo: Array<() => Promise<void>>): Promise<void> {
  for (const u of undo.reverse()) await u();
}

/**
 * Counts side b's answer rows in the conversation after a mark (a message id). Incremental: each
 * poll reads only the rows committed since the previous one (a rowid range), so watching a run
 * costs the bench almost nothing however many answers there already are.
 */
export class AnswerCounter {
  private readonly newRows;
  private readonly top;
  private cursor = 0;
  /** Answer ids seen so far with their timestamps, in id order. */
  private seen: Array<{ id: number; timestamp: string }> = [];

  constructor(private readonly bridge: BridgeFixture, private readonly conv: Conversation, private readonly guard: Service[]) {
    this.newRows = bridge.db.prepare<[string, number], { id: number; b: number; timestamp: string }>(
      "SELECT id, (conversation_id = ? AND from_session = 'b') AS b, timestamp FROM messages WHERE id > ? ORDER BY id",
    );
    this.top = bridge.db.prepare<[], number | null>('SELECT MAX(id) FROM messages').pluck();
    this.cursor = this.mark();
  }

  mark(): number {
    return this.top.get() ?? 0;
  }

  /** Answers with an id above `after`: how many, and the latest timestamp among them. */
  count(after: number): { n: number; last: string | null } {
    for (const r of this.newRows.all(this.conv.id, this.cursor)) {
      this.cursor = r.id;
      if (r.b) this.seen.push({ id: r.id, timestamp: r.timestamp });
    }
    let n = 0;
    let last: string | null = null;
    for (let i = this.seen.length - 1; i >= 0 && this.seen[i]!.id > after; i--) {
      n++;
      if (last === null || this.seen[i]!.timestamp > last) last = this.seen[i]!.timestamp;
    }
    return { n, last };
  }

  async waitFor(after: number, n: number, timeoutMs: number): Promise<{ n: number; last: string }> {
    return waitFor(`${n} answers in the bridge`, () => {
      const c = this.count(after);
      return c.n >= n && c.last ? { n: c.n, last: c.last } : undefined;
    }, { timeoutMs, everyMs: 20, guard: this.guard });
  }

  get db() {
    return this.bridge.db;
  }
}

/**
 * Inserts `n` questions as side `a`, `batch` to a transaction, as fast as the bench can. It yields
 * to the event loop between transactions (a few µs), so that a Ctrl-C is handled: tsx SIGKILLs a
 * child that does not acknowledge a signal within 30 ms, and then nothing would be cleaned up.
 * Query ids are `<tag>_<i>` for i from `from`.
 */
export async function insertMany(bridge: BridgeFixture, conv: Conversation, tag: string, n: number, batch: number, from = 0): Promise<void> {
  for (let start = from; start < from + n; start += batch) {
    bridge.db.transaction(() => {
      for (let i = start; i < Math.min(from + n, start + batch); i++) bridge.ask(conv.id, `${tag}_${i}`, `Question ${i} of ${tag}: what changed?`);
    }).immediate();
    await new Promise((r) => setImmediate(r));
  }
}

export interface BridgeCheck {
  asked: number;
  responseRows: number;
  distinctQueryIds: number;
  /** Query ids with more than one response row. */
  answeredTwice: number;
  unreadForB: number;
  ledger: Record<string, number>;
}

/** Every question answered exactly once? Response rows, distinct query ids, unread questions, ledger states. */
export function checkBridge(bridge: BridgeFixture, conv: Conversation, asked: number): BridgeCheck {
  const rows = bridge.db
    .prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT json_extract(message, '$.query_id')) AS d FROM messages WHERE conversation_id = ? AND from_session = 'b'")
    .get(conv.id) as { n: number; d: number };
  const twice = bridge.db
    .prepare(
      "SELECT COUNT(*) FROM (SELECT json_extract(message, '$.query_id') AS q FROM messages WHERE conversation_id = ? AND from_session = 'b' GROUP BY q HAVING COUNT(*) > 1)",
    )
    .pluck()
    .get(conv.id) as number;
  const unread = bridge.db.prepare("SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND to_session = 'b' AND read = 0").pluck().get(conv.id) as number;
  const ledger = Object.fromEntries(
    (bridge.db.prepare('SELECT state, COUNT(*) AS n FROM autopoll_ledger WHERE conversation_id = ? GROUP BY state').all(conv.id) as Array<{ state: string; n: number }>).map(
      (r) => [r.state, r.n],
    ),
  );
  return { asked, responseRows: rows.n, distinctQueryIds: rows.d, answeredTwice: twice, unreadForB: unread, ledger };
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

/**
 * CPU seconds of a process and of the children it has already waited for (Linux /proc: utime,
 * stime, cutime, cstime). Children that exited during a phase show up in the parent's figure, so
 * the difference over a phase covers short-lived processes too. Undefined elsewhere or once gone.
 */
export function cpuSecondsWithChildren(pid: number | 'self'): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** The parent pid of a process (Linux /proc), undefined when it is gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Busy CPU seconds of the whole machine, all cores (Linux /proc/stat: all but idle and iowait). */
export function machineCpuSeconds(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - (fields[3] ?? 0) - (fields[4] ?? 0)) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

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
