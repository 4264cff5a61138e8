import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { queryBody } from '../../src/bridge/BridgeClient.js';
import { pyJsonDumps } from '../../src/bridge/pyjson.js';
import { parseBridgeTimestamp } from '../../src/bridge/timestamp.js';
import { RedisServer } from '../support/redisServer.js';
import { SpawnedPipeline } from '../support/spawnedPipeline.js';
import { ProcessMarker } from '../support/leftovers.js';

/**
 * Scenario 4, a locked bridge: while two of the bridge's own Python writers (side a, sqlite3 with
 * the bridge's 10 s busy timeout) keep inserting questions, a third process holds the bridge's
 * write lock for 2 s, frees it for 0.5 s, again and again for 30 s: far longer than autopoll's
 * 20 ms busy timeout. The producer must keep going (its waits are asynchronous retries), must not
 * hog the lock (the bridge's writers never fail), and every question is answered exactly once.
 */

const here = dirname(fileURLToPath(import.meta.url));
const WRITER = join(here, 'support/bridgeWriter.py');
const LOCKER = join(here, 'support/bridgeLocker.py');
const RUN_SEC = 30;
const HOLD_MS = 2_000;
const RELEASE_MS = 500;

const t0 = Date.now();
function note(what: string): void {
  console.log(`[lockedBridge +${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}`);
}

/** A python3 helper printing JSON lines, the last one its summary (`done: true`). */
class PythonLines {
  readonly child: ChildProcess;
  readonly lines: Array<Record<string, unknown>> = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(script: string, args: string[], env: Record<string, string>) {
    this.child = spawn('python3', [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const line of parts) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((r) => this.child.once('exit', (code, signal) => r({ code, signal })));
  }

  get summary(): Record<string, unknown> | undefined {
    return this.lines.find((l) => l.done === true);
  }

  get errors(): Array<Record<string, unknown>> {
    return this.lines.filter((l) => 'error' in l);
  }

  kill(): Promise<unknown> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    return this.exited;
  }
}

function epochMs(bridgeTimestamp: string): number {
  const micros = parseBridgeTimestamp(bridgeTimestamp);
  if (micros === undefined) throw new Error(`not a bridge timestamp: ${bridgeTimestamp}`);
  return micros / 1000;
}

describe('a bridge whose write lock another process keeps taking', () => {
  const marker = new ProcessMarker();
  let redis: RedisServer | undefined;
  let pipeline: SpawnedPipeline | undefined;
  const helpers: PythonLines[] = [];
  let tornDown = false;

  async function teardown(): Promise<void> {
    if (tornDown) return;
    tornDown = true;
    await Promise.all(helpers.map((h) => h.kill()));
    await pipeline?.stop();
    await redis?.stop();
  }

  afterAll(teardown, 60_000);

  it('keeps answering through every lock, never makes the bridge writers fail, answers each question once', async () => {
    redis = await RedisServer.start();
    pipeline = new SpawnedPipeline(['--redis', redis.url], marker.env);
    // The producer runs with its default busy timeout (20 ms).
    const { producer, consumer } = await pipeline.start();
    const p = pipeline;
    p.ask(3, 'warm');
    await p.expectAllAnsweredOnce(20_000);
    note('pipeline answering; starting 2 bridge writers and the locker');

    const args = (tag: string, intervalMs: number) => [p.bridge.path, p.conv.id, tag, String(RUN_SEC), String(intervalMs)];
    const writers = [new PythonLines(WRITER, args('w1', 150), marker.env), new PythonLines(WRITER, args('w2', 220), marker.env)];
    const locker = new PythonLines(LOCKER, [p.bridge.path, p.conv.id, String(HOLD_MS), String(RELEASE_MS), String(RUN_SEC)], marker.env);
    helpers.push(...writers, locker);
    const startedAt = Date.now();

    const exits = await Promise.all(helpers.map((h) => h.exited));
    note(`writers and locker done after ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    for (const h of helpers) expect(h.stderr, 'python helper stderr').toBe('');
    expect(exits).toEqual(Array(3).fill({ code: 0, signal: null }));
    expect(producer.child.exitCode, 'the producer is still running').toBeNull();
    expect(consumer.child.exitCode, 'the consumer is still running').toBeNull();

    // The bridge's own writers never failed (SQLITE_BUSY past their 10 s busy timeout), and never waited long.
    const summaries = writers.map((w) => w.summary!);
    note(`writers: ${JSON.stringify(summaries)}`);
    for (const w of writers) expect(w.errors, 'bridge writer errors').toEqual([]);
    for (const s of summaries) {
      expect(s.errors).toBe(0);
      // Each write waits out the lock it meets, so a writer gets a few in per lock cycle.
      expect(Number(s.written), 'questions a bridge writer sent').toBeGreaterThanOrEqual(20);
      // A writer meeting a hold waits it out, and takes the lock in the release window that follows
      // (its busy handler polls every 100 ms); longer means someone else kept the lock.
      expect(Number(s.max_wait_ms), 'longest wait of a bridge writer').toBeLessThan(2 * HOLD_MS + RELEASE_MS);
    }

    // The locker got its lock every cycle, without waiting on autopoll for long.
    const lockerSummary = locker.summary!;
    note(`locker: ${JSON.stringify(lockerSummary)}`);
    expect(locker.errors).toEqual([]);
    expect(lockerSummary.errors).toBe(0);
    expect(Number(lockerSummary.cycles)).toBeGreaterThanOrEqual(10);
    expect(Number(lockerSummary.max_acquire_ms), 'the locker waited for the lock').toBeLessThan(1_000);

    // Every question the bridge writers sent, answered exactly once, the ledger agreeing.
    for (const w of writers) {
      for (const l of w.lines.filter((x) => typeof x.id === 'number')) {
        p.queryIds.push(String(l.query_id));
        p.messageIds.push(Number(l.id));
      }
    }
    await p.expectAllAnsweredOnce(60_000);
    note(`${p.queryIds.length} questions answered exactly once`);

    // The writers' rows are the bridge's, to the byte: what BridgeClient (side a as the bridge writes it) makes.
    const rows = p.bridge.db
      .prepare(`SELECT m.id, m.message, m.metadata, m.timestamp, m.read, a.details, a.timestamp AS audit_ts FROM messages m
        JOIN audit_log a ON a.conversation_id = m.conversation_id AND a.action = 'send_message' AND a.session_id = 'a' AND a.timestamp = m.timestamp
        WHERE m.from_session = 'a' AND m.id >= ?`)
      .all(Math.min(...p.messageIds.slice(3))) as Array<{ id: number; message: string; metadata: string; timestamp: string; read: number; details: string; audit_ts: string }>;
    expect(rows).toHaveLength(p.messageIds.length - 3);
    for (const r of rows) {
      const queryId = (JSON.parse(r.message) as { query_id: string }).query_id;
      expect(r.message).toBe(queryBody(queryId, `question ${queryId}`));
      expect(r.metadata).toBe(pyJsonDumps({ action_type: 'question' }));
      expect(r.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/);
      expect(r.details).toBe(pyJsonDumps({ to: 'b', message_length: r.message.length, redacted: false }));
      expect(r.read).toBe(1);
    }

    // The producer kept going through the locks: its bridge writes (takes and responses) never
    // stopped for longer than two lock cycles, and it wrote in most of the release windows.
    const cycles = locker.lines.filter((l) => typeof l.locked_at === 'number').map((l) => ({ lockedAt: Number(l.locked_at), releasedAt: Number(l.released_at) }));
    const ledger = p.bridge.db.prepare('SELECT taken_at, finished_at FROM autopoll_ledger WHERE message_id >= ?').all(Math.min(...p.messageIds.slice(3))) as Array<{ taken_at: string; finished_at: string }>;
    const producerWrites = ledger.flatMap((r) => [epochMs(r.taken_at), epochMs(r.finished_at)]).sort((a, b) => a - b);
    const during = producerWrites.filter((t) => t >= cycles[0]!.lockedAt && t <= cycles[cycles.length - 1]!.releasedAt);
    const gaps = during.slice(1).map((t, i) => t - during[i]!);
    const maxGap = Math.max(...gaps);
    const windows = cycles.slice(0, -1).map((c, i) => ({ from: c.releasedAt, to: cycles[i + 1]!.lockedAt }));
    const windowsWritten = windows.filter((w) => producerWrites.some((t) => t >= w.from && t <= w.to + 50)).length;
    const insideLocks = producerWrites.filter((t) => cycles.some((c) => t > c.lockedAt + 50 && t < c.releasedAt - 50)).length;
    note(`producer: ${during.length} bridge writes over ${cycles.length} lock cycles, longest pause ${maxGap.toFixed(0)} ms, wrote in ${windowsWritten}/${windows.length} release windows, ${insideLocks} writes inside a lock hold`);
    expect(insideLocks, 'no producer write while the locker held the lock').toBe(0);
    expect(maxGap, 'longest pause of the producer').toBeLessThan(2 * (HOLD_MS + RELEASE_MS) + 500);
    expect(windowsWritten, 'release windows in which the producer wrote').toBeGreaterThanOrEqual(Math.ceil(windows.length * 0.6));

    const busyWarnings = producer.lines.filter((l) => l.msg === 'bridge database is locked by another process; retrying').length;
    const errors = producer.lines.filter((l) => Number(l.level) >= 50).map((l) => l.msg);
    note(`producer: ${busyWarnings} "locked by another process" warnings, errors: ${JSON.stringify(errors)}`);
    expect(errors).toEqual([]);

    const status = await p.status();
    expect(status.ledger).toMatchObject({ queued: 0, failed: 0, rejected: 0, answered: p.queryIds.length });
    expect(status.queues.questions).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0 });
    expect(status.queues.answers).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0 });

    const stops = await Promise.all([consumer, producer].map((proc) => proc.kill('SIGTERM')));
    expect(stops, 'consumer and producer stopped by SIGTERM').toEqual(Array(2).fill({ code: 0, signal: null }));
  });

  it('leaves no process behind', async () => {
    await teardown();
    expect(marker.alive()).toEqual([]);
  });
});
