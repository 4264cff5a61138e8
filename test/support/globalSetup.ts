import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { deleteKeys } from './cleanup.js';
import { ProcessMarker, RUN_MARKER } from './leftovers.js';
import { RedisServer } from './redisServer.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/**
 * One redis-server for the run (unless REDIS_URL names one); tests keep apart by key prefix.
 * The run gets a marker and a temp folder of its own, set in the environment before vitest forks
 * its workers, which pass both on to everything they spawn. At the end, what still carries the
 * marker, sits in the folder, or has a key of the run fails the run, and is cleaned up anyway.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Started before the marker is set: it is the run's, stopped here, never a leftover.
  const server = process.env.REDIS_URL ? undefined : await RedisServer.start();
  const redisUrl = process.env.REDIS_URL ?? server!.url;
  project.provide('redisUrl', redisUrl);
  const marker = new ProcessMarker(RUN_MARKER);
  const root = mkdtempSync(join(tmpdir(), 'autopoll-run-'));
  const tmpdirBefore = process.env.TMPDIR;
  process.env[marker.name] = marker.value;
  process.env.TMPDIR = root;

  return async () => {
    // vitest's workers carry the marker too (forked with the run's environment): vitest stops them.
    const processes = marker.kill(marker.alive().filter((p) => p.ppid !== process.pid));
    const folders = readdirSync(root);
    rmSync(root, { recursive: true, force: true });
    process.env.TMPDIR = tmpdirBefore;
    // Every key of the run's own server is the run's; on a shared one, those under its test prefixes.
    const keys = await deleteKeys(redisUrl, [server ? '*' : `{t${marker.value}*`]);
    await server?.stop();
    const left = [
      ...processes.map((p) => `process ${p.pid}: ${p.command}`),
      ...folders.map((f) => `temp folder ${join(root, f)}`),
      ...keys.map((k) => `redis key ${k}`),
    ];
    if (left.length > 0) {
      // vitest prints a teardown's error but would still exit 0.
      process.exitCode = 1;
      throw new Error(`the tests left ${left.length} thing(s) behind (now removed):\n  ${left.join('\n  ')}`);
    }
  };
}
