import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { CONSUMERS, listConsumers, type ConsumerInfo } from '../../src/shared/ConsumerPresence.js';
import { listPresence, Presence, PRESENCE_STALE_MS, presenceKey } from '../../src/shared/Presence.js';
import { listProducers, PRODUCERS } from '../../src/shared/ProducerPresence.js';
import { testPrefix, testRedis } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

describe('presence', () => {
  const redis = testRedis();
  afterAll(() => redis.quit());

  const consumer = (name: string): Omit<ConsumerInfo, 'seenAt'> => ({ name, host: 'h', pid: 1, answerer: 'stub', sessions: 2, sessionPids: [], busy: 0, state: 'running', startedAt: 1 });

  it('one mechanism, one hash per kind: listed while running, gone when stopped', async () => {
    const prefix = testPrefix();
    const c = new Presence(redis, prefix, CONSUMERS, () => consumer('c1'));
    const p = new Presence(redis, prefix, PRODUCERS, () => ({ name: 'p1', host: 'h', pid: 2, bridgeDb: '/b.db', role: null, conversations: [{ id: 'conv_1', expiresAt: 'T' }], startedAt: 1 }));
    c.start();
    p.start();
    // Stopped below too; this stops them when an assertion fails first (they would keep writing their keys).
    onTestFinished(async () => {
      await Promise.all([c.stop(), p.stop()]);
    });
    await waitFor('both listed', async () => (await listConsumers(redis, prefix)).length === 1 && (await listProducers(redis, prefix)).length === 1);
    expect(await listProducers(redis, prefix)).toEqual([expect.objectContaining({ name: 'p1', conversations: [{ id: 'conv_1', expiresAt: 'T' }] })]);
    expect(presenceKey(prefix, CONSUMERS)).toBe(`${prefix}:autopoll:consumers`);
    expect(presenceKey(prefix, PRODUCERS)).toBe(`${prefix}:autopoll:producers`);
    await Promise.all([c.stop(), p.stop()]);
    expect(await listConsumers(redis, prefix)).toEqual([]);
    expect(await listProducers(redis, prefix)).toEqual([]);
  });

  it('once stopped, stays gone: a publish under way lands before the delete, and a late one writes nothing', async () => {
    const prefix = testPrefix();
    const c = new Presence(redis, prefix, CONSUMERS, () => consumer('c1'));
    c.start();
    const underWay = c.publish();
    await c.stop();
    await underWay;
    // What a job finishing during the consumer's close does (its 'halted' event publishes).
    await c.publish();
    expect(await redis.hkeys(presenceKey(prefix, CONSUMERS))).toEqual([]);
  });

  it('stale and unreadable entries are left out and removed', async () => {
    const prefix = testPrefix();
    const key = presenceKey(prefix, CONSUMERS);
    const now = Date.now();
    await redis.hset(key, 'fresh', JSON.stringify({ ...consumer('fresh'), seenAt: now }));
    await redis.hset(key, 'old', JSON.stringify({ ...consumer('old'), seenAt: now - PRESENCE_STALE_MS - 1 }));
    await redis.hset(key, 'junk', '{not json');
    await redis.hset(key, 'wrong', JSON.stringify({ name: 'wrong', seenAt: now }));
    // What a read-only board reads: the same list, nothing removed.
    expect((await listPresence(redis, prefix, CONSUMERS, now, false)).map((e) => e.name)).toEqual(['fresh']);
    expect((await redis.hkeys(key)).sort()).toEqual(['fresh', 'junk', 'old', 'wrong']);
    expect((await listPresence(redis, prefix, CONSUMERS, now)).map((e) => e.name)).toEqual(['fresh']);
    expect(await redis.hkeys(key)).toEqual(['fresh']);
  });

  it('a malformed entry fails the start, where it shows', () => {
    const bad = new Presence(redis, testPrefix(), CONSUMERS, () => ({ ...consumer('c'), sessions: -1 }));
    expect(() => bad.start()).toThrow();
  });
});
