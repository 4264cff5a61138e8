import { describe, expect, it } from 'vitest';
import { unreachableMessage } from '../../src/shared/redis.js';
import { hashTag, parseRedisTarget, safeRedisUrl, type RedisTarget } from '../../src/shared/redisTarget.js';

function target(url: string, cluster = false): RedisTarget {
  const parsed = parseRedisTarget(url, cluster);
  if ('error' in parsed) throw new Error(`expected a target, got: ${parsed.error}`);
  return parsed.target;
}

function error(url: string, cluster = false): string {
  const parsed = parseRedisTarget(url, cluster);
  if ('target' in parsed) throw new Error(`expected an error, got ${JSON.stringify(parsed.target)}`);
  return parsed.error;
}

describe('parseRedisTarget: one Redis', () => {
  it('keeps a single URL for ioredis to read (database, TLS, its options)', () => {
    for (const url of ['redis://127.0.0.1:6379', 'redis://localhost', 'rediss://:pw@cache.internal:6380/2', 'redis://[::1]:6379/0', 'redis://h:1?family=6']) {
      expect(target(url)).toEqual({ kind: 'single', url });
    }
  });

  it('refuses what is not a Redis URL, saying how to write one', () => {
    expect(error('not a url')).toMatch(/^expected a URL: redis:\/\/\[USER:PASSWORD@\]HOST:PORT\[\/DB\]/);
    expect(error('http://h:1')).toContain('unknown scheme "http://"');
    expect(error('redis://')).toContain('a host is missing');
    expect(error('redis://h:1/x')).toContain('redis://HOST:PORT/DB');
    expect(error('redis://h:0')).toContain('a port is 1 to 65535');
    expect(error('redis://h:70000')).toContain('"h:70000": a port is 1 to 65535');
    expect(error('redis://h h:1')).toContain('"h h:1" is not HOST or HOST:PORT');
  });

  it('sends several hosts without --redis-cluster to the Cluster flag or the Sentinel form', () => {
    const msg = error('redis://a:7000,b:7001');
    expect(msg).toContain('add --redis-cluster (env AUTOPOLL_REDIS_CLUSTER)');
    expect(msg).toContain('redis-sentinel://HOST:PORT,HOST:PORT/MASTER_NAME');
  });
});

describe('parseRedisTarget: Sentinel', () => {
  it('reads the sentinels, the master name, the database and the credentials', () => {
    const url = 'redis-sentinel://app:s%3Acret@10.0.0.1:26379,10.0.0.2:26380,[fd00::3]/mymaster?db=3';
    expect(target(url)).toEqual({
      kind: 'sentinel',
      url,
      sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26380 }, { host: 'fd00::3', port: 26379 }],
      masterName: 'mymaster',
      db: 3,
      username: 'app',
      password: 's:cret',
    });
  });

  it('defaults to port 26379 and database 0, no credentials', () => {
    expect(target('redis-sentinel://s1/m')).toEqual({ kind: 'sentinel', url: 'redis-sentinel://s1/m', sentinels: [{ host: 's1', port: 26379 }], masterName: 'm', db: 0 });
    expect(target('redis-sentinel://:pw@s1:1/m')).toMatchObject({ password: 'pw' });
    expect(target('redis-sentinel://:pw@s1:1/m')).not.toHaveProperty('username');
  });

  it('needs the master name and understands only ?db=N', () => {
    for (const url of ['redis-sentinel://s1:26379', 'redis-sentinel://s1:26379/', 'redis-sentinel://s1/a/b']) {
      expect(error(url)).toContain('redis-sentinel://HOST:PORT[,HOST:PORT...]/MASTER_NAME');
    }
    expect(error('redis-sentinel://s1/m?db=x')).toBe('db must be a whole number');
    expect(error('redis-sentinel://s1/m?db=-1')).toBe('db must be 0 or more');
    expect(error('redis-sentinel://s1/m?role=slave')).toContain('unknown parameter "role"');
  });

  it('is not a Cluster', () => {
    expect(error('redis-sentinel://s1/m', true)).toContain('drop --redis-cluster');
  });
});

describe('parseRedisTarget: Cluster', () => {
  it('reads the seed nodes, TLS and the credentials', () => {
    expect(target('redis://127.0.0.1:7000,127.0.0.1:7001', true)).toEqual({
      kind: 'cluster',
      url: 'redis://127.0.0.1:7000,127.0.0.1:7001',
      nodes: [{ host: '127.0.0.1', port: 7000 }, { host: '127.0.0.1', port: 7001 }],
      tls: false,
    });
    expect(target('rediss://u:p%40ss@a,b:7001/', true)).toMatchObject({ nodes: [{ host: 'a', port: 6379 }, { host: 'b', port: 7001 }], tls: true, username: 'u', password: 'p@ss' });
  });

  it('takes a single seed', () => {
    expect(target('redis://10.1.1.1:7000', true)).toMatchObject({ kind: 'cluster', nodes: [{ host: '10.1.1.1', port: 7000 }] });
  });

  it('has only database 0 and takes no parameters', () => {
    expect(target('redis://a:1/0', true)).toMatchObject({ kind: 'cluster' });
    expect(error('redis://a:1,b:2/1', true)).toContain('only database 0');
    expect(error('redis://a:1?x=1', true)).toContain('no ?parameters');
  });
});

describe('passwords never show', () => {
  const secret = 'Sup3rSecret';
  const urls = [
    `redis://:${secret}@h:1,h h:2`,
    `redis://u:${secret}@h:1,:2`,
    `redis://:${secret}/more@h:1`,
    `redis://:${secret}%zz@h:1`,
    `redis-sentinel://:${secret}@s1/m?db=x`,
    `redis-sentinel://:${secret}@s1`,
    `redis://:${secret}@a:1,b:2`,
    `redis://:${secret}@a:99999`,
    `ftp://:${secret}@a:1`,
  ];
  it('in the messages', () => {
    for (const url of urls) for (const cluster of [false, true]) {
      const parsed = parseRedisTarget(url, cluster);
      if ('error' in parsed) expect(parsed.error, url).not.toContain(secret.slice(2, 8));
    }
    expect(error(`redis://:${secret}@h:1,:2`, true)).toContain('host 2 is not HOST or HOST:PORT');
  });

  it('in safeRedisUrl, for every form', () => {
    for (const url of [...urls, `redis://:${secret}@h:1/2`, `rediss://user:${secret}@h:1`, `redis-sentinel://u:${secret}@s1:1,s2:2/m?db=1`]) {
      expect(safeRedisUrl(url), url).not.toContain(secret.slice(2, 8));
    }
    expect(safeRedisUrl(`redis-sentinel://u:${secret}@s1:1,s2:2/m?db=1`)).toBe('redis-sentinel://u:***@s1:1,s2:2/m?db=1');
    expect(safeRedisUrl(`redis://:${secret}@a:1,b:2`)).toBe('redis://:***@a:1,b:2');
    expect(safeRedisUrl('redis://a:1,b:2')).toBe('redis://a:1,b:2');
    expect(safeRedisUrl(`redis://:${secret}@h:6379`)).toBe('redis://:***@h:6379');
  });
});

describe('unreachableMessage: the host:port it tried, never a password', () => {
  const secret = 'Sup3rSecret';
  it('one Redis on this machine: start one on that port; elsewhere: check that host and port', () => {
    expect(unreachableMessage(target(`redis://app:${secret}@localhost:6390/2`), 'ECONNREFUSED')).toBe(
      'Redis at redis://app:***@localhost:6390/2 is unreachable (ECONNREFUSED); retrying. ' +
        'Start a Redis on localhost:6390 with `redis-server --port 6390 --appendonly yes --maxmemory-policy noeviction`, or set REDIS_URL.',
    );
    expect(unreachableMessage(target('redis://[::1]'), 'ECONNREFUSED', false)).toContain('Start a Redis on [::1]:6379 with `redis-server --port 6379 ');
    expect(unreachableMessage(target(`rediss://:${secret}@cache.internal`), 'ENOTFOUND', false)).toBe(
      'Redis at rediss://:***@cache.internal is unreachable (ENOTFOUND). ' +
        'Check that a Redis runs on cache.internal:6379 and that this machine reaches it (redis-cli -h cache.internal -p 6379 PING), or set REDIS_URL.',
    );
  });

  it('a Sentinel set: the sentinels; a Cluster: its seed nodes', () => {
    expect(unreachableMessage(target(`redis-sentinel://:${secret}@s1,s2:26380/mymaster`), 'ECONNREFUSED')).toBe(
      'Redis master "mymaster" of the Sentinel set redis-sentinel://:***@s1,s2:26380/mymaster is unreachable (ECONNREFUSED); retrying (a failover takes seconds). ' +
        'Check that the sentinels s1:26379, s2:26380 answer and name a master (redis-cli -h s1 -p 26379 SENTINEL get-master-addr-by-name mymaster), or set REDIS_URL.',
    );
    expect(unreachableMessage(target(`redis://:${secret}@n1:7000,n2`, true), 'ECONNREFUSED', false)).toBe(
      'Redis Cluster redis://:***@n1:7000,n2 is unreachable (ECONNREFUSED). ' +
        'Check that the seed nodes n1:7000, n2:6379 answer and `redis-cli -h n1 -p 7000 CLUSTER INFO` says cluster_state:ok, or set REDIS_URL.',
    );
  });
});

describe('hashTag', () => {
  it('is the first non-empty {...}, as Redis Cluster hashes keys', () => {
    expect(hashTag('{autopoll}')).toBe('autopoll');
    expect(hashTag('team{q}')).toBe('q');
    expect(hashTag('{a}{b}')).toBe('a');
    for (const none of ['autopoll', '{}', '{}x', '{open', 'close}', '}{']) expect(hashTag(none), none).toBeUndefined();
  });
});
