/**
 * The stack the pipeline benchmarks run on: a private redis-server, a bridge file, the queues,
 * and the CLI processes started on it.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BridgeFixture, REPO, tempDir, type Conversation } from '../test/support/bridge.js';
import { AutopollProcess } from '../test/support/cli.js';
import { round } from '../test/support/numbers.js';
import { RedisServer } from '../test/support/redisServer.js';
import { waitFor } from '../test/support/wait.js';
import { ANSWERS_QUEUE, QUESTIONS_QUEUE } from '../src/shared/queues.js';
import { nowMs } from './bridgeTraffic.js';
import { BENCH_TEMP_PREFIX, cleanup, recordRedisServer } from './cleanup.js';

export interface ServiceOptions {
  name: string;
  /** Arguments after `node dist/cli/main.js`. */
  args: string[];
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

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
  service(options: ServiceOptions): AutopollProcess {
    const service = new AutopollProcess(options.args, options.env, {
      name: options.name,
      nodeArgs: options.nodeArgs,
      cwd: REPO,
      // The child gets SIGTERM should the bench die without cleaning up (SIGKILL).
      dieWithParent: true,
      // At info a consumer logs a line per question: counted, not kept.
      keepLines: false,
    });
    const stop = cleanup.add(`stop ${options.name}`, async () => void (await service.stop()));
    this.undo.push(stop);
    return service;
  }

  /** Starts the producer serving `conv` and waits for its first heartbeat; the seconds that took. */
  async startProducer(conv: Conversation, options: { name: string; nodeArgs?: string[]; args?: string[] }): Promise<{ producer: AutopollProcess; readySec: number }> {
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
