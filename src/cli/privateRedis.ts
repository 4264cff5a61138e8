import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../shared/logger.js';
import { redisAnswers } from '../shared/redis.js';

/**
 * A redis-server that `up` starts for itself so that `npm start` works on a machine with no
 * Redis running: AOF on and noeviction, the settings BullMQ needs to lose nothing.
 */
export class PrivateRedis {
  private constructor(private readonly child: ChildProcess) {}

  static async start(port: number, dataDir: string, logger: Logger): Promise<PrivateRedis> {
    const dir = resolve(dataDir);
    mkdirSync(dir, { recursive: true });
    const child = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', ''],
      { stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.once('error', () => undefined);
    const url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if (await redisAnswers(url, 200)) {
        logger.info({ redis: url, dataDir: dir, pid: child.pid }, 'no Redis answered and REDIS_URL is not set: started a private redis-server (AOF, noeviction); it stops with autopoll');
        return new PrivateRedis(child);
      }
      if (child.exitCode !== null) break;
      await sleep(50);
    }
    child.kill('SIGKILL');
    await exited;
    throw new Error(`could not start redis-server on port ${port}; start one yourself or set REDIS_URL`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** Whether an executable of this name is on the PATH. */
export function onPath(binary: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      accessSync(resolve(dir, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
