import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runAutopoll } from '../support/cli.js';
import { RedisCluster } from '../support/redisCluster.js';
import { SpawnedPipeline } from '../support/spawnedPipeline.js';

/** A real 3-master Redis Cluster; the built CLI's processes reach it through ioredis's Cluster client. */
describe('Redis Cluster', () => {
  let cluster: RedisCluster;
  let pipeline: SpawnedPipeline | undefined;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
  });
  afterEach(async () => {
    await pipeline?.stop();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('producer and consumer over the Cluster: 200 questions answered exactly once; status and doctor read it', async () => {
    pipeline = new SpawnedPipeline(['--redis', cluster.url, '--redis-cluster']);
    await pipeline.start();
    pipeline.ask(100, 'c');
    await new Promise((r) => setTimeout(r, 200));
    pipeline.ask(100, 'c');
    await pipeline.expectAllAnsweredOnce();

    const report = await pipeline.status();
    expect(report.ledger).toEqual({ queued: 0, answered: 200, failed: 0, rejected: 0 });
    expect(report.queues.questions.completed).toBe(200);
    expect(report.queues.answers.completed).toBe(200);
    expect(report.workers.questions).toBeGreaterThanOrEqual(1);
    expect(report.consumers).toHaveLength(1);
    expect(report.producers).toHaveLength(1);

    const doctor = await runAutopoll(['doctor', '--redis', cluster.url, '--redis-cluster', '--bridge-db', pipeline.bridge.path, '--answerer', 'stub', '--json']);
    const lines = JSON.parse(doctor.stdout) as Array<{ name: string; status: string; detail: string }>;
    expect(lines.find((l) => l.name === 'redis')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^Redis 7\.\d+\.\d+ at redis:\/\/127\.0\.0\.1:\d+,.* \(all 3 masters\)$/) });
    expect(lines.find((l) => l.name === 'eviction')).toMatchObject({ status: 'ok' });
  });

  it('refuses a prefix without a hash tag, and seed nodes without --redis-cluster (exit 2)', async () => {
    const untagged = await runAutopoll(['consumer', '--redis', cluster.url, '--redis-cluster', '--prefix', 'autopoll', '--answerer', 'stub']);
    expect(untagged.code).toBe(2);
    expect(untagged.stderr).toContain('--prefix (env AUTOPOLL_PREFIX): with --redis-cluster the prefix must be hash-tagged, e.g. {autopoll}');
    const env = await runAutopoll(['status', '--bridge-db', '/nonexistent'], { REDIS_URL: cluster.url, AUTOPOLL_REDIS_CLUSTER: '1', AUTOPOLL_PREFIX: '{}' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('--prefix (env AUTOPOLL_PREFIX)');
    const noFlag = await runAutopoll(['producer', '--redis', cluster.url, '--bridge-db', '/nonexistent']);
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr).toContain('--redis (env REDIS_URL): several hosts are the seed nodes of a Redis Cluster: add --redis-cluster');
  });
});
