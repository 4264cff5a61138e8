import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseInfo } from '../../src/doctor/redisChecks.js';
import { redisCommand, RedisProcess, waitForPing } from './redisProcesses.js';
import { freePort } from './redisServer.js';
import { waitFor } from './wait.js';

/**
 * A real Redis Cluster of the test's own: `masters` redis-servers with cluster mode on, on free
 * loopback ports (their cluster bus on free ports too), joined by `redis-cli --cluster create`.
 */
export class RedisCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'autopoll-cluster-'));
  private readonly nodes: RedisProcess[] = [];

  private constructor() {}

  get ports(): number[] {
    return this.nodes.map((n) => n.port);
  }

  /** The seed nodes, as `--redis` takes them with `--redis-cluster`. */
  get url(): string {
    return `redis://${this.ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  }

  static async start(masters = 3): Promise<RedisCluster> {
    const cluster = new RedisCluster();
    try {
      await cluster.launch(masters);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  private async launch(masters: number): Promise<void> {
    for (let i = 0; i < masters; i++) {
      const [port, busPort] = [await freePort(), await freePort()];
      this.nodes.push(
        new RedisProcess(port, [
          '--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir,
          '--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--cluster-config-file', join(this.dir, `nodes-${port}.conf`),
          '--cluster-node-timeout', '2000', '--appendonly', 'no', '--save', '', '--maxmemory-policy', 'noeviction',
        ]),
      );
    }
    await Promise.all(this.ports.map((p) => waitForPing(p)));
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...this.ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    await waitFor(
      'cluster_state:ok on every node',
      async () => {
        const states = await Promise.all(this.ports.map(async (p) => parseInfo(String(await redisCommand(p, 'CLUSTER', 'INFO'))).cluster_state));
        return states.every((s) => s === 'ok');
      },
      20_000,
      100,
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop('SIGKILL')));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
