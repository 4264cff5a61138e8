import { expect } from 'vitest';
import type { StatusReport } from '../../src/ops/status/statusReport.js';
import { BridgeFixture, type Conversation } from './bridge.js';
import { AutopollProcess, runAutopoll } from './cli.js';
import { expectAnsweredExactlyOnce } from './exactlyOnce.js';
import { testPrefix } from './pipeline.js';
import { waitFor } from './wait.js';

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

  constructor(
    readonly redisArgs: string[],
    /** Added to every spawned process's environment (e.g. a chaos scenario's process marker). */
    readonly env: Record<string, string> = {},
  ) {}

  /** Both started (their "started" lines logged). */
  async start(o: { producer?: string[]; consumer?: string[] } = {}): Promise<{ producer: AutopollProcess; consumer: AutopollProcess }> {
    const common = [...this.redisArgs, '--prefix', this.prefix];
    const producer = this.spawn(['producer', ...common, '--bridge-db', this.bridge.path, '--conversation', `${this.conv.id}:${this.conv.tokenB}`, '--poll-interval-ms', '50', ...(o.producer ?? [])]);
    const consumer = this.spawn(['consumer', ...common, '--answerer', 'stub', '--sessions', '4', ...(o.consumer ?? [])]);
    await Promise.all([producer.waitForLog(/^producer started$/), consumer.waitForLog(/^consumer started$/)]);
    return { producer, consumer };
  }

  spawn(args: string[]): AutopollProcess {
    const p = new AutopollProcess(args, this.env);
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
    this.bridge.close();
  }
}
