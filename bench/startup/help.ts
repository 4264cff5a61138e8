/** Wall time of whole short-lived CLI processes, spawn to exit, as farm-bench takes it. */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { CLI } from '../../test/support/cli.js';

/**
 * Ms per run of `node dist/cli/main.js ...args`, or of `node -e 0` for `null` (the floor of any
 * node command here), after one run not counted (it fills the file cache).
 */
export function timeCommand(args: string[] | null, runs: number): number[] {
  const argv = args === null ? ['-e', '0'] : [CLI, ...args];
  const once = (): number => {
    const start = performance.now();
    const run = spawnSync(process.execPath, argv, { stdio: 'ignore' });
    const ms = performance.now() - start;
    if (run.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${run.status ?? run.signal}`);
    return ms;
  };
  once();
  return Array.from({ length: runs }, once);
}
