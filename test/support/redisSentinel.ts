import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInfo } from '../../src/doctor/redisChecks.js';
import { redisCommand, RedisProcess, waitForPing } from './redisProcesses.js';
import { freePort } from './redisServer.js';
import { waitFor } from './wait.js';
import { startedOrStopped } from './cleanup.js';

export const MASTER_NAME = 'm';

/**
 * A real Sentinel set of the test's own: a master, one replica (`replicaof`) and three sentinels
 * (`sentinel monitor m 127.0.0.1 <master> 2`, down after 1 s), each in its own process group, all
 * on free loopback ports. `failover()` and `killMaster()` move the master to the other server.
 */
export class RedisSentinelSet {
  readonly dir = mkdtempSync(join(tmpdir(), 'autopoll-sentinel-'));
  /** The two data servers: [first master, first replica]. */
  readonly servers: RedisProcess[] = [];
  readonly sentinels: RedisProcess[] = [];

  private constructor() {}

  /** As `--redis` takes it. */
  get url(): string {
    return `redis-sentinel://${this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${MASTER_NAME}`;
  }

  static async start(): Promise<RedisSentinelSet> {
    return startedOrStopped(new RedisSentinelSet(), (set) => set.launch());
  }

  private async launch(): Promise<void> {
    const [masterPort, replicaPort] = [await freePort(), await freePort()];
    const data = (port: number, extra: string[]) =>
      new RedisProcess(port, [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir, '--dbfilename', `dump-${port}.rdb`,
        '--appendonly', 'no', '--save', '', '--maxmemory-policy', 'noeviction', '--repl-diskless-sync-delay', '0', ...extra,
      ]);
    this.servers.push(data(masterPort, []));
    await waitForPing(masterPort);
    this.servers.push(data(replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)]));
    await waitFor('the replica in sync', async () => parseInfo(String(await redisCommand(replicaPort, 'INFO', 'replication'))).master_link_status === 'up', 10_000, 50);
    // Each sentinel is told its id, the others and the replica, instead of finding them through
    // the master's hello channel (every 2 s) and INFO: a failover can be forced at once.
    const ids = [0, 1, 2].map(() => randomBytes(20).toString('hex'));
    const ports = [await freePort(), await freePort(), await freePort()];
    for (const [i, port] of ports.entries()) {
      const conf = join(this.dir, `sentinel-${port}.conf`);
      // The sentinel rewrites its file (known replicas and sentinels, epochs): it must be its own.
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${this.dir}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 4000`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          `sentinel myid ${ids[i]}`,
          `sentinel known-replica ${MASTER_NAME} 127.0.0.1 ${replicaPort}`,
          ...ports.flatMap((other, j) => (j === i ? [] : [`sentinel known-sentinel ${MASTER_NAME} 127.0.0.1 ${other} ${ids[j]}`])),
          '',
        ].join('\n'),
      );
      this.sentinels.push(new RedisProcess(port, [conf, '--sentinel']));
    }
    await Promise.all(this.sentinels.map((s) => waitForPing(s.port)));
    // Ready for a failover: every sentinel knows the replica and the two other sentinels.
    await waitFor(
      'the sentinels to know the replica and each other',
      async () => {
        const views = await Promise.all(
          this.sentinels.map(async (s) => {
            const replicas = (await redisCommand(s.port, 'SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[];
            const others = (await redisCommand(s.port, 'SENTINEL', 'SENTINELS', MASTER_NAME)) as unknown[];
            return replicas.length === 1 && others.length === 2;
          }),
        );
        return views.every(Boolean);
      },
      20_000,
      100,
    );
  }

  /** The master's port, as the first sentinel that answers reports it. */
  async masterPort(): Promise<number> {
    for (const s of this.sentinels) {
      if (!s.running) continue;
      try {
        const [, port] = (await redisCommand(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string];
        return Number(port);
      } catch {
        // the next one
      }
    }
    throw new Error('no sentinel answered');
  }

  /** Until the other server replicates the master and every sentinel sees it so: a failover can then promote it. */
  async waitForReplica(timeoutMs = 20_000): Promise<void> {
    await waitFor(
      'a replica in sync, known to every sentinel',
      async () => {
        const master = await this.masterPort();
        const replica = this.servers.find((s) => s.port !== master && s.running);
        if (!replica) return false;
        const info = parseInfo(String(await redisCommand(replica.port, 'INFO', 'replication')));
        if (info.role !== 'slave' || Number(info.master_port) !== master || info.master_link_status !== 'up') return false;
        const views = await Promise.all(
          this.sentinels.map(async (s) => {
            const replicas = ((await redisCommand(s.port, 'SENTINEL', 'REPLICAS', MASTER_NAME)) as string[][]).map(fields);
            return replicas.some((r) => Number(r.port) === replica.port && r.flags === 'slave' && r['master-link-status'] === 'ok');
          }),
        );
        return views.every(Boolean);
      },
      timeoutMs,
      100,
    );
  }

  /** `SENTINEL FAILOVER m`: the replica is promoted, the old master is made its replica. Returns the new master's port. */
  async failover(timeoutMs = 20_000): Promise<number> {
    await this.waitForReplica();
    const old = await this.masterPort();
    // NOGOODSLAVE while the sentinel's view of the replica is not fresh yet: ask again.
    await waitFor('SENTINEL FAILOVER to be accepted', async () => (await redisCommand(this.sentinels[0]!.port, 'SENTINEL', 'FAILOVER', MASTER_NAME)) === 'OK', 10_000, 200);
    return this.waitForNewMaster(old, timeoutMs);
  }

  /** SIGKILL of the master's process group: the sentinels see it down after 1 s and elect the replica. Returns the new master's port. */
  async killMaster(timeoutMs = 30_000): Promise<number> {
    await this.waitForReplica();
    const old = await this.masterPort();
    await this.servers.find((s) => s.port === old)!.stop('SIGKILL');
    return this.waitForNewMaster(old, timeoutMs);
  }

  /** Until every running sentinel names a master other than `old`, and that server says it is a master. */
  private async waitForNewMaster(old: number, timeoutMs: number): Promise<number> {
    return waitFor(
      `the sentinels to report a master other than ${old}`,
      async () => {
        const ports = await Promise.all(
          this.sentinels.filter((s) => s.running).map(async (s) => Number(((await redisCommand(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string])[1])),
        );
        const port = ports[0]!;
        if (port === old || ports.some((p) => p !== port)) return undefined;
        const role = parseInfo(String(await redisCommand(port, 'INFO', 'replication'))).role;
        return role === 'master' ? port : undefined;
      },
      timeoutMs,
      100,
    );
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.servers].map((p) => p.stop('SIGKILL')));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A SENTINEL REPLICAS entry, a flat [field, value, ...] list, as an object. */
function fields(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
