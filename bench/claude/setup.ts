/**
 * What every phase of a Claude benchmark run shares: its temp folder, the fake Anthropic API, the
 * environment every Claude Code process gets, and the record of the processes it started.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { SESSION_ENV_DEFAULTS } from '../../src/consumer/claude/sessionEnv.js';
import { tempDir } from '../../test/support/bridge.js';
import { claudeEnv } from '../../test/support/claudeEnv.js';
import { FakeAnthropic } from '../../test/support/fakeAnthropic.js';
import type { ClaudeConfig } from '../claude.js';
import { BENCH_TEMP_PREFIX, cleanup } from '../cleanup.js';
import { echoQueryId } from './questions.js';

export interface ClaudeRun {
  config: ClaudeConfig;
  api: FakeAnthropic;
  /** The environment of every Claude Code process, the baseline's and the pool's alike. */
  env: NodeJS.ProcessEnv;
  /** The empty folder the processes run in and may read. */
  toolsRoot: string;
  /** Pids of the Claude Code processes the bench started, for the check at the end. */
  started: Set<number>;
  log: (line: string) => void;
  signal: AbortSignal;
}

/** Makes the temp folder, the fake API and the environment; what undoes them goes onto `undo`, in order. */
export async function setUpRun(undo: Array<() => Promise<void>>): Promise<Pick<ClaudeRun, 'api' | 'env' | 'toolsRoot'>> {
  const dir = tempDir(`${BENCH_TEMP_PREFIX}${process.pid}-`);
  undo.push(cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true })));
  const api = await new FakeAnthropic().start();
  api.latencyMs = 0;
  api.responder = echoQueryId;
  undo.push(cleanup.add('stop the fake Anthropic API', () => api.stop()));

  // claudeEnv's HOME goes into the bench folder (removed at the end, or by the next run's sweep),
  // and so does Claude Code's TMPDIR (it leaves probes and sockets there).
  const testEnv = claudeEnv(api.url);
  // Only the private folder claudeEnv made for this call (never a real HOME).
  if (testEnv.HOME && dirname(testEnv.HOME) === tmpdir() && basename(testEnv.HOME).startsWith('autopoll-claude-home-')) {
    rmSync(testEnv.HOME, { recursive: true, force: true });
  }
  const home = join(dir, 'home');
  const tmp = join(dir, 'tmp');
  const toolsRoot = join(dir, 'tools');
  for (const d of [join(home, '.claude'), tmp, toolsRoot]) mkdirSync(d, { recursive: true });
  // The baseline runs with the environment the pool's sessions get, so the work matches.
  const extra = sessionEnvOverrides(process.env.BENCH_SESSION_ENV ?? '');
  const env: NodeJS.ProcessEnv = { ...SESSION_ENV_DEFAULTS, ...testEnv, HOME: home, CLAUDE_CONFIG_DIR: join(home, '.claude'), TMPDIR: tmp, ...extra };
  // A consumer passes them on by name (--claude-env's twin), as an operator would.
  if (Object.keys(extra).length) env.AUTOPOLL_CLAUDE_ENV = [testEnv.AUTOPOLL_CLAUDE_ENV, ...Object.keys(extra)].filter(Boolean).join(',');
  return { api, env, toolsRoot };
}

/**
 * BENCH_SESSION_ENV ("NAME=VALUE,NAME=VALUE"): variables every Claude Code process of the run gets
 * on top of the sessions' own, to compare a setting in the same run (BUN_GC_TIMER_DISABLE=0 puts the
 * runtime's GC timer back).
 */
export function sessionEnvOverrides(text: string): Record<string, string> {
  const pairs = text.split(',').map((p) => p.trim()).filter(Boolean);
  return Object.fromEntries(
    pairs.map((p) => {
      const at = p.indexOf('=');
      if (at < 1) throw new Error(`BENCH_SESSION_ENV: expected NAME=VALUE, got "${p}"`);
      return [p.slice(0, at), p.slice(at + 1)];
    }),
  );
}
