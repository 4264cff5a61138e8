import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { runAutopoll } from '../support/cli.js';
import { redisCommand } from '../support/redisProcesses.js';
import { RedisSentinelSet } from '../support/redisSentinel.js';
import { SpawnedPipeline } from '../support/spawnedPipeline.js';
import { waitFor } from '../support/wait.js';

/**
 * A real Sentinel set (master, replica, three sentinels); the built CLI's processes find the
 * master through ioredis's Sentinel support and follow it when it fails over mid-run.
 */
describe('Redis Sentinel', () => {
  let set: RedisSentinelSet | undefined;
  let pipeline: SpawnedPipeline | undefined;

  afterEach(async () => {
    await pipeline?.stop();
    await set?.stop();
  });

  /** Side a asks 5 questions every 50 ms while `during` runs, and for `afterMs` after it. */
  async function keepAsking(p: SpawnedPipeline, during: () => Promise<unknown>, afterMs: number): Promise<void> {
    let asking = true;
    const asker = (async () => {
      while (asking) {
        p.ask(5, 'q');
        await sleep(50);
      }
    })();
    try {
      await sleep(1000);
      await during();
      await sleep(afterMs);
    } finally {
      asking = false;
      await asker;
    }
  }

  /** Client connections on a data server, but for the sentinels' and this probe's own. */
  async function clientsOf(port: number): Promise<number> {
    const list = String(await redisCommand(port, 'CLIENT', 'LIST', 'TYPE', 'normal')).split('\n');
    return list.filter((l) => l.trim() && !/ name=sentinel-/.test(l) && !/ cmd=client\|list/.test(l)).length;
  }

  async function start(): Promise<SpawnedPipeline> {
    set = await RedisSentinelSet.start();
    pipeline = new SpawnedPipeline(['--redis', set.url]);
    // Questions whose jobs a failover loses come back from the ledger at the next reconcile.
    await pipeline.start({ producer: ['--reconcile-interval', '2'], consumer: ['--stub-latency-ms', '10', '--lock-duration-ms', '5000'] });
    return pipeline;
  }

  it('SENTINEL FAILOVER while questions flow: every question answered exactly once; status reads the new master', async () => {
    const p = await start();
    const before = await set!.masterPort();
    let after = 0;
    await keepAsking(p, async () => (after = await set!.failover()), 1500);
    expect(after).not.toBe(before);
    // The old master is demoted only when a sentinel next looks at it (10 s); ioredis's failover
    // detector (+switch-master) has moved every connection to the new one long before.
    await waitFor('no autopoll connection left on the old master', async () => (await clientsOf(before)) === 0, 5000, 100);
    expect(p.queryIds.length).toBeGreaterThanOrEqual(150);
    await p.expectAllAnsweredOnce(40_000);

    const report = await p.status();
    expect(report.ledger).toEqual({ queued: 0, answered: p.queryIds.length, failed: 0, rejected: 0 });
    expect(report.consumers).toHaveLength(1);
    expect(report.producers).toHaveLength(1);
  });

  it('kill -9 of the master while questions flow: the sentinels elect the replica, nothing lost, nothing answered twice', async () => {
    const p = await start();
    await keepAsking(p, () => set!.killMaster(), 1500);
    await p.expectAllAnsweredOnce(40_000);
    expect((await p.status()).ledger?.answered).toBe(p.queryIds.length);

    const doctor = await runAutopoll(['doctor', '--redis', set!.url, '--bridge-db', p.bridge.path, '--answerer', 'stub', '--json']);
    const redisLine = (JSON.parse(doctor.stdout) as Array<{ name: string; status: string; detail: string }>).find((l) => l.name === 'redis');
    expect(redisLine).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^Redis 7\.\d+\.\d+ at redis-sentinel:\/\/127\.0\.0\.1:\d+,/) });
  });
});
