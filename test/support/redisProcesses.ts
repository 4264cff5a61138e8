import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { waitFor } from './wait.js';

/**
 * A redis-server (or sentinel) of a test, started as the leader of its own process group so
 * that stopping it stops whatever it forked too (a BGSAVE, an AOF rewrite).
 */
export class RedisProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;

  constructor(readonly port: number, args: string[]) {
    this.child = spawn('redis-server', args, { stdio: 'ignore', detached: true });
    this.child.once('error', () => undefined);
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // already gone
    }
    await this.exited;
  }
}

/** One command to the server on `port`, over a connection that never retries. */
export async function redisCommand(port: number, command: string, ...args: Array<string | number>): Promise<unknown> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, connectTimeout: 1000, commandTimeout: 2000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await redis.call(command, ...args);
  } finally {
    redis.disconnect();
  }
}

/** Waits until the server on `port` answers PING. */
export async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  await waitFor(`PONG from port ${port}`, async () => (await redisCommand(port, 'PING')) === 'PONG', timeoutMs, 25);
}
