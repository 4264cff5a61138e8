import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { PrivateRedis } from '../../src/cli/privateRedis.js';
import { BridgeFixture, tempDir } from '../support/bridge.js';
import { AutopollProcess } from '../support/cli.js';
import { redisAnswers } from '../../src/shared/redis.js';
import { testLogger, testPrefix } from '../support/pipeline.js';
import { freePort, RedisServer } from '../support/redisServer.js';
import { waitFor } from '../support/wait.js';

describe('when Redis is not there', () => {
  const procs: AutopollProcess[] = [];
  let redis: RedisServer | undefined;

  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
    await redis?.stop();
  });

  it('says so in one line with the URL and how to start one on the host:port it tried, keeps retrying, and works once Redis comes', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const prefix = testPrefix();
    const up = new AutopollProcess(['up', '--answerer', 'stub', '--port', '0', '--redis', url, '--prefix', prefix, '--bridge-db', bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`]);
    procs.push(up);
    const line = await up.waitForLog(/unreachable/);
    expect(line.msg).toBe(
      `Redis at ${url} is unreachable (ECONNREFUSED); retrying. Start a Redis on 127.0.0.1:${port} with \`redis-server --port ${port} --appendonly yes --maxmemory-policy noeviction\`, or set REDIS_URL.`,
    );
    await new Promise((r) => setTimeout(r, 2000));
    expect(up.child.exitCode).toBeNull(); // no crash loop: the same process, still waiting
    expect(up.lines.filter((l) => /unreachable/.test(String(l.msg)))).toHaveLength(1); // one line, not one per retry

    bridge.ask(conv.id, 'q_wait', 'answered once Redis is up?');
    redis = await RedisServer.startOn(port);
    await up.waitForLog(/^Redis is reachable again$/);
    await waitFor('answer', () => bridge.responses(conv.id).length === 1, 30_000);
    expect(bridge.responses(conv.id)[0]!.body.query_id).toBe('q_wait');
    bridge.close();
  });

  it('SIGTERM stops `up` cleanly with exit code 0 even while Redis is down', async () => {
    const bridge = BridgeFixture.create();
    const up = new AutopollProcess(['up', '--answerer', 'stub', '--port', '0', '--redis', `redis://127.0.0.1:${await freePort()}`, '--bridge-db', bridge.path, '--shutdown-timeout', '2']);
    procs.push(up);
    await up.waitForLog(/unreachable/);
    up.child.kill('SIGTERM');
    expect(await up.exited).toEqual({ code: 0, signal: null });
    bridge.close();
  });

  it('the private redis-server that `up` starts has AOF on and noeviction, and stops with it', async () => {
    const port = await freePort();
    const dir = tempDir();
    const server = await PrivateRedis.start(port, `${dir}/redis`, testLogger());
    onTestFinished(() => server.stop());
    const client = new Redis(server.url);
    onTestFinished(() => client.disconnect());
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await client.config('GET', 'dir')).toEqual(['dir', `${dir}/redis`]);
    await server.stop();
    expect(await redisAnswers(server.url)).toBe(false);
  });

  it('a redis-server that answers late is there: the probe that decides on a private Redis does not time its PING', async () => {
    // A private Redis writing its AOF as it shuts down answers late; taking it for gone would let
    // `up` delete its files while it still runs, and start another on its port.
    const server = await RedisServer.start();
    onTestFinished(() => server.stop());
    const thawed = server.freeze(1000);
    expect(await redisAnswers(server.url, 200)).toBe(true);
    await thawed;
  });
});
