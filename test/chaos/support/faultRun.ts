import { mkdirSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import type { AutopollProcess } from '../../support/cli.js';
import { expectAnsweredExactlyOnce } from '../../support/exactlyOnce.js';
import { RedisServer } from '../../support/redisServer.js';
import { SpawnedPipeline, STUB_CONSUMER } from '../../support/spawnedPipeline.js';
import { waitFor } from '../../support/wait.js';
import { ProcessMarker } from '../../support/leftovers.js';

/**
 * The kill storm and Redis fault scenarios (test/chaos/killStorm, redisFaults): spawned
 * `autopoll producer` and `autopoll consumer --answerer stub` processes over a private
 * redis-server (AOF on) that the scenario may kill, restart or flush, side `a` asking a steady
 * stream of questions, and the end checks: answered once, ledger and bridge agreeing, and every
 * process either killed on purpose or stopped by SIGTERM with exit code 0, none left behind.
 */

/** mulberry32: a small seeded generator, so that a failing storm can be run again (CHAOS_SEED). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FaultRunOptions {
  /** The stub's time per answer. */
  stubLatencyMs: number;
  /** How soon a killed consumer's questions go to another. */
  lockDurationMs?: number;
  reconcileIntervalSec?: number;
  /** Scenario name, shown in the progress lines. */
  name: string;
}

interface LedgerRow {
  message_id: number;
  query_id: string | null;
  state: string;
  response_message_id: number | null;
}

export class FaultRun {
  readonly marker = new ProcessMarker();
  readonly seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : Date.now() % 2 ** 31;
  readonly random = seededRandom(this.seed);
  readonly pipeline: SpawnedPipeline;
  producer: AutopollProcess | undefined;
  /** Consumers alive (started, not killed). */
  readonly consumers: AutopollProcess[] = [];
  /** The processes this run killed on purpose (every process it started is in `pipeline.procs`). */
  private readonly killedOnPurpose = new Set<AutopollProcess>();
  private readonly t0 = Date.now();
  private cleaned = false;

  private constructor(
    readonly redis: RedisServer,
    private readonly options: FaultRunOptions,
  ) {
    this.pipeline = new SpawnedPipeline(['--redis', redis.url], this.marker.env);
    this.note(`seed ${this.seed} (CHAOS_SEED=${this.seed} repeats its random choices), redis ${redis.url}, bridge ${this.pipeline.bridge.path}`);
  }

  /** A private redis-server with AOF on (a restart keeps what it fsynced), and the bridge file. */
  static async create(options: FaultRunOptions): Promise<FaultRun> {
    const redis = await RedisServer.start(['--appendonly', 'yes', '--appendfsync', 'everysec']);
    try {
      return new FaultRun(redis, options);
    } catch (err) {
      // The caller gets no run to clean up: the redis-server would be left behind.
      await redis.stop();
      throw err;
    }
  }

  note(what: string): void {
    console.log(`[${this.options.name} +${((Date.now() - this.t0) / 1000).toFixed(1)}s] ${what}`);
  }

  async startProducer(): Promise<AutopollProcess> {
    const p = this.pipeline.producer(['--reconcile-interval', String(this.options.reconcileIntervalSec ?? 2)]);
    this.producer = p;
    await this.awaitStart(p, /^producer started$/);
    this.note(`producer ${p.child.pid} started`);
    return p;
  }

  async startConsumer(): Promise<AutopollProcess> {
    const p = this.pipeline.consumer([
      ...STUB_CONSUMER, '--stub-latency-ms', String(this.options.stubLatencyMs),
      '--lock-duration-ms', String(this.options.lockDurationMs ?? 3000), '--backoff-ms', '100',
    ]);
    this.consumers.push(p);
    await this.awaitStart(p, /^consumer started$/);
    this.note(`consumer ${p.child.pid} started (${this.consumers.length} alive)`);
    return p;
  }

  /** Its "started" line, or a failure with its stderr as soon as it exits instead (a broken build, a bad flag). */
  private async awaitStart(p: AutopollProcess, line: RegExp): Promise<void> {
    let done = false;
    const exitedFirst = p.exited.then((e) => {
      if (!done) throw new Error(`process ${p.child.pid} exited (${e.code ?? e.signal}) before starting: ${p.stderr}`);
    });
    try {
      await Promise.race([p.waitForLog(line, 60_000), exitedFirst]);
    } finally {
      done = true;
    }
  }

  async killProducer(): Promise<void> {
    const p = this.producer!;
    this.producer = undefined;
    await this.kill9(p);
    this.note(`producer ${p.child.pid} killed -9 (${this.answered()} of ${this.pipeline.queryIds.length} answered)`);
  }

  async killConsumer(p: AutopollProcess): Promise<void> {
    this.consumers.splice(this.consumers.indexOf(p), 1);
    await this.kill9(p);
    this.note(`consumer ${p.child.pid} killed -9 (${this.consumers.length} alive)`);
  }

  private async kill9(p: AutopollProcess): Promise<void> {
    // It must have been alive until now: a process that died on its own is a failure of the run.
    expect(p.child.exitCode, `process ${p.child.pid} exited on its own before its kill: ${p.stderr}`).toBeNull();
    this.killedOnPurpose.add(p);
    expect(await p.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
  }

  /** Stops Redis: SIGTERM (it fsyncs its AOF and exits) or SIGKILL. */
  async stopRedis(how: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    await this.redis.kill(how === 'SIGKILL');
    this.note(`redis-server stopped by ${how}`);
  }

  async startRedis(): Promise<void> {
    await this.redis.launch();
    this.note('redis-server started again on the same port');
  }

  /**
   * What a crash of the machine (not only of the process) costs with `appendfsync everysec`: the
   * writes since the last fsync. A killed process loses nothing its write() reached, so the tail
   * of the AOF is cut by hand; Redis loads the rest (aof-load-truncated, the default), undoing
   * an incomplete MULTI. Returns the bytes cut.
   */
  loseAofTail(bytes: number): number {
    const dir = join(this.redis.dir, 'appendonlydir');
    const incr = readdirSync(dir)
      .filter((f) => f.endsWith('.incr.aof'))
      .sort((a, b) => Number(/\.(\d+)\.incr\.aof$/.exec(a)![1]) - Number(/\.(\d+)\.incr\.aof$/.exec(b)![1]));
    const last = join(dir, incr[incr.length - 1]!);
    const size = statSync(last).size;
    const cut = Math.min(bytes, Math.floor(size / 2));
    truncateSync(last, size - cut);
    this.note(`cut the last ${cut} of ${size} bytes of ${incr[incr.length - 1]}`);
    return cut;
  }

  /** What the run went through: answers by attempt count, and the producers' repairs and dropped duplicates. */
  summary(): { byAttempts: Record<string, number>; requeued: number; dropped: number } {
    const byAttempts: Record<string, number> = {};
    for (const r of this.pipeline.bridge.responses(this.pipeline.conv.id)) {
      const a = String(r.body.attempts);
      byAttempts[a] = (byAttempts[a] ?? 0) + 1;
    }
    const producers = this.pipeline.procs.filter((p) => p.hasLog(/^producer started$/));
    const count = (pattern: RegExp) => producers.reduce((n, p) => n + linesMatching(p, pattern).length, 0);
    const s = { byAttempts, requeued: count(/^question missing from Redis; enqueueing it again$/), dropped: count(/^answer dropped$/) };
    this.note(`answers by attempts ${JSON.stringify(s.byAttempts)}; questions re-enqueued by the reconciler ${s.requeued}; duplicate answers dropped ${s.dropped}`);
    return s;
  }

  answered(): number {
    return this.pipeline.bridge.responses(this.pipeline.conv.id).length;
  }

  /**
   * Side `a` asks `total` questions, `perTick` every `everyMs`, whatever happens to autopoll
   * meanwhile. `asked()` says how many so far; `done` resolves after the last.
   */
  stream(o: { total: number; perTick: number; everyMs: number; tag: string }): { done: Promise<void>; asked: () => number; finished: () => boolean } {
    let asked = 0;
    let finished = false;
    const done = (async () => {
      const start = Date.now();
      for (let tick = 0; asked < o.total; tick++) {
        const n = Math.min(o.perTick, o.total - asked);
        this.pipeline.ask(n, o.tag);
        asked += n;
        // Paced by the clock, not by the ticks: a slow insert does not stretch the stream.
        const next = start + (tick + 1) * o.everyMs;
        await sleep(Math.max(0, next - Date.now()));
      }
      finished = true;
      this.note(`stream ${o.tag}: all ${o.total} questions asked`);
    })();
    return { done, asked: () => asked, finished: () => finished };
  }

  /**
   * Every question asked answered exactly once (no error response), and the ledger agreeing with
   * the bridge: one `answered` row per question, its response_message_id the response to that
   * query, no two rows sharing one; no unread message left for side `b`.
   */
  async expectAllAnsweredOnce(timeoutMs: number): Promise<void> {
    const { bridge, conv, queryIds, messageIds } = this.pipeline;
    const n = queryIds.length;
    let lastNote = Date.now();
    await waitFor(`${n} answers`, () => {
      const got = this.answered();
      if (Date.now() - lastNote > 10_000) {
        lastNote = Date.now();
        this.note(`waiting for answers: ${got} of ${n}`);
      }
      return got >= n;
    }, timeoutMs, 100);
    this.note(`all ${n} answered; waiting for late duplicates`);
    // A duplicate would come from a stalled job run again: after its lock expires and the next
    // stalled check (both --lock-duration-ms), or from an answer job of a killed producer (5 s).
    await sleep(Math.max(2 * (this.options.lockDurationMs ?? 3000), 5000) + 1000);
    expectAnsweredExactlyOnce(bridge, conv.id, queryIds, messageIds);

    const ledger = bridge.db.prepare('SELECT message_id, query_id, state, response_message_id FROM autopoll_ledger ORDER BY message_id').all() as LedgerRow[];
    expect(ledger.map((r) => r.message_id), 'one ledger row per question, no other').toEqual([...messageIds].sort((a, b) => a - b));
    const responses = new Map(bridge.responses(conv.id).map((r) => [r.id, r]));
    const wrong = ledger.filter((r) => {
      const response = r.response_message_id === null ? undefined : responses.get(r.response_message_id);
      return r.state !== 'answered' || !response || response.body.query_id !== r.query_id || response.body.type !== 'response';
    });
    expect(wrong, 'ledger rows not answered by their own response').toEqual([]);
    expect(new Set(ledger.map((r) => r.response_message_id)).size, 'ledger rows sharing a response').toBe(ledger.length);
    const unread = bridge.db.prepare(`SELECT COUNT(*) AS n FROM messages WHERE to_session = 'b' AND read = 0`).get() as { n: number };
    expect(unread.n, 'unread messages left for side b').toBe(0);
  }

  /**
   * The end of a run: every process not killed on purpose is still running (none crashed or
   * exited by itself), stops on SIGTERM with exit code 0; no process carrying the marker remains.
   */
  async stopAll(): Promise<void> {
    const live = this.pipeline.procs.filter((p) => !this.killedOnPurpose.has(p));
    const died = live.filter((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    expect(died.map((p) => ({ pid: p.child.pid, code: p.child.exitCode, signal: p.child.signalCode, stderr: p.stderr })), 'processes that died by themselves').toEqual([]);
    const exits = await Promise.all(live.map((p) => p.kill('SIGTERM')));
    expect(exits, 'exit of each process on SIGTERM').toEqual(live.map(() => ({ code: 0, signal: null })));
    for (const p of live) expect(p.hasLog(/^(producer|consumer) stopped$/), `process ${p.child.pid} logged its stop`).toBe(true);
    for (const p of this.killedOnPurpose) expect(await p.exited).toEqual({ code: null, signal: 'SIGKILL' });
    for (const p of this.pipeline.procs) expect(p.stderr, `stderr of ${p.child.pid}`).toBe('');
    this.producer = undefined;
    this.consumers.splice(0);
    this.note(`stopped ${live.length} processes by SIGTERM (exit 0), ${this.killedOnPurpose.size} were killed -9 during the run`);
    expect(this.marker.alive(), 'processes left behind').toEqual([]);
  }

  /** With CHAOS_LOG_DIR set, every process's log lines are kept there, one file per process. */
  private saveLogs(): void {
    const dir = process.env.CHAOS_LOG_DIR;
    if (!dir) return;
    const into = join(dir, `${this.options.name}-${this.seed}`);
    mkdirSync(into, { recursive: true });
    for (const p of this.pipeline.procs) {
      const role = p.hasLog(/^producer started$/) ? 'producer' : 'consumer';
      writeFileSync(join(into, `${role}-${p.child.pid}.log`), p.lines.map((l) => JSON.stringify(l)).join('\n') + '\n' + p.stderr);
    }
    this.note(`process logs kept in ${into}`);
  }

  /** After the test, pass or fail: nothing keeps running, Redis and its folder go. */
  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    this.saveLogs();
    await this.pipeline.stop();
    await this.redis.stop();
  }
}

/** Log lines (pino `msg`) of a process that match. */
export function linesMatching(p: AutopollProcess, pattern: RegExp): Array<Record<string, unknown>> {
  return p.lines.filter((l) => pattern.test(String(l.msg)));
}
