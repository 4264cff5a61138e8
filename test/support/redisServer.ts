import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { INSTALL_SYSTEM_PACKAGES } from './systemPackages.js';
import { startedOrStopped } from './cleanup.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** A real redis-server of the test's own, on a free loopback port, in a temporary folder. */
export class RedisServer {
  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'autopoll-redis-'));

  private constructor(readonly port: number, private readonly extraArgs: string[]) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(extraArgs: string[] = []): Promise<RedisServer> {
    return RedisServer.startOn(await freePort(), extraArgs);
  }

  static async startOn(port: number, extraArgs: string[] = []): Promise<RedisServer> {
    return startedOrStopped(new RedisServer(port, extraArgs), (server) => server.launch());
  }

  /** (Re)starts the server process on the same port and folder. */
  async launch(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', ...this.extraArgs],
      { stdio: 'ignore' },
    );
    // Without a listener a missing binary (ENOENT) crashes the run with no word of what to install.
    let spawnError: Error | undefined;
    this.child.once('error', (err) => (spawnError = err));
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    for (let i = 0; i < 200; i++) {
      if (spawnError) throw new Error(`redis-server did not start (${spawnError.message}): install it with the README's command (${INSTALL_SYSTEM_PACKAGES})`);
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        await sleep(25);
      }
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** Stops the process (SIGKILL when `hard`), keeping the folder for a restart. */
  async kill(hard = false): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  }

  /** Holds the process still for `ms` (SIGSTOP, then SIGCONT): a Redis that is there but answers late. */
  async freeze(ms: number): Promise<void> {
    const child = this.child;
    if (!child?.pid) throw new Error('redis-server is not running');
    child.kill('SIGSTOP');
    await sleep(ms);
    child.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
