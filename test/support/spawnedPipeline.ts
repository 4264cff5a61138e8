import { expect } from 'vitest';
import type { StatusReport } from '../../src/ops/status/statusReport.js';
import { BridgeFixture, type Conversation } from './bridge.js';
import { AutopollProcess, runAutopoll } from './cli.js';
import { expectAnsweredExactlyOnce } from './exactlyOnce.js';
import { PIPELINE_MARKER, ProcessMarker } from './leftovers.js';
import { testPrefix } from './pipeline.js';
import { waitFor } from './wait.js';

/** A consumer answering with the stub, 4 sessions: the default; later flags win (commander keeps the last). */
export const STUB_CONSUMER = ['--answerer', 'stub', '--sessions', '4'];

/** A consumer answering through Claude Code (2 sessions, both kept warm, 2 attempts, short backoff); give it `claudeEnv`. */
export const CLAUDE_CONSUMER = ['--answerer', 'claude', '--sessions', '2', '--min-sessions', '2', '--attempts', '2', '--backoff-ms', '200', '--turn-timeout', '60'];

/**
 * The built `autopoll producer` and `autopoll consumer --answerer stub` serving one conversation
 * of a fresh bridge file, over the Redis that `redisArgs` name (`--redis ...`, `--redis-cluster`).
 */
export class SpawnedPipeline {
  readonly bridge = BridgeFixture.create();
  readonly conv: Conversation = this.bridge.createConversation();
  readonly prefix = testPrefix();
  readonly procs: AutopollProcess[] = [];
  readonly queryIds: string[] = [];
  readonly messageIds: number[] = [];
  /** On every process of the pipeline, inherited by what they start: stop() finds them all by it. */
  readonly marker = new ProcessMarker(PIPELINE_MARKER);

  constructor(
    readonly redisArgs: string[],
    /** Added to every spawned process's environment (e.g. a chaos scenario's process marker). */
    readonly env: Record<string, string> = {},
  ) {}

  /** `--redis ... --prefix P`: what every process of this pipeline is started with. */
  get common(): string[] {
    return [...this.redisArgs, '--prefix', this.prefix];
  }

  /** `autopoll producer` for the conversation, polling every 50 ms; `extra` flags win over these. */
  producer(extra: string[] = [], env: Record<string, string | undefined> = {}): AutopollProcess {
    return this.spawn(['producer', ...this.common, '--bridge-db', this.bridge.path, '--conversation', `${this.conv.id}:${this.conv.tokenB}`, '--poll-interval-ms', '50', ...extra], env);
  }

  /** `autopoll consumer` with `flags` (the answerer and its sessions) after the pipeline's Redis flags. */
  consumer(flags: string[] = STUB_CONSUMER, env: Record<string, string | undefined> = {}): AutopollProcess {
    return this.spawn(['consumer', ...this.common, ...flags], env);
  }

  /** Both started (their "started" lines logged). */
  async start(o: { producer?: string[]; consumer?: string[] } = {}): Promise<{ producer: AutopollProcess; consumer: AutopollProcess }> {
    const producer = this.producer(o.producer);
    const consumer = this.consumer([...STUB_CONSUMER, ...(o.consumer ?? [])]);
    await Promise.all([producer.waitForLog(/^producer started$/), consumer.waitForLog(/^consumer started$/)]);
    return { producer, consumer };
  }

  spawn(args: string[], env: Record<string, string | undefined> = {}): AutopollProcess {
    const p = new AutopollProcess(args, { ...this.marker.env, ...this.env, ...env });
    this.procs.push(p);
    return p;
  }

  /** Side a asks `n` questions now. */
  ask(n: number, tag: string): void {
    for (let i = 0; i < n; i++) {
      const queryId = `${tag}_${this.queryIds.length}`;
      this.queryIds.push(queryId);
      this.messageIds.push(this.bridge.ask(this.conv.id, queryId, `question ${queryId}`));
    }
  }

  /** Every question asked so far answered, once, and the ledger agreeing. */
  async expectAllAnsweredOnce(timeoutMs = 30_000): Promise<void> {
    const n = this.queryIds.length;
    await waitFor(`${n} answers`, () => this.bridge.responses(this.conv.id).length >= n, timeoutMs, 50);
    // A late duplicate would show up now.
    await new Promise((r) => setTimeout(r, 500));
    expectAnsweredExactlyOnce(this.bridge, this.conv.id, this.queryIds, this.messageIds);
  }

  /** `autopoll status --json` over the same Redis and bridge. */
  async status(): Promise<StatusReport> {
    const run = await runAutopoll(['status', ...this.redisArgs, '--prefix', this.prefix, '--bridge-db', this.bridge.path, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout) as StatusReport;
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.splice(0).map((p) => p.kill('SIGKILL')));
    // What they started outlives a SIGKILL (Claude Code runs in process groups of its own); killed
    // again until none is left, in case one was starting a process of its own.
    await waitFor("the pipeline's processes gone", () => this.marker.kill().length === 0, 10_000);
    this.bridge.close();
  }
}
