import { mkdirSync } from 'node:fs';
import { ClaudeAnswerer, type ClaudeAnswererOptions } from '../../src/consumer/ClaudeAnswerer.js';
import type { Logger } from '../../src/shared/logger.js';
import type { FakeAnthropic } from './fakeAnthropic.js';
import { testLogger } from './pipeline.js';
import { join } from 'node:path';
import { tempDir } from './bridge.js';
import { MARKERS, RUN_MARKER } from './leftovers.js';

/**
 * The environment a real Claude Code process needs to talk to the fake API only: its own HOME
 * and config folder, the key (null: no credentials at all), and no non-essential traffic (there
 * is no network here). Other credential variables are unset: the test runner's own must not leak in.
 */
export function claudeEnv(apiUrl: string, apiKey: string | null = 'sk-ant-test-key'): NodeJS.ProcessEnv {
  const home = tempDir('autopoll-claude-home-');
  mkdirSync(join(home, '.claude'), { recursive: true });
  return {
    PATH: process.env.PATH,
    // The only variable of the test's own environment it keeps: what the run's teardown finds processes by.
    [RUN_MARKER]: process.env[RUN_MARKER],
    HOME: home,
    CLAUDE_CONFIG_DIR: join(home, '.claude'),
    // Claude Code keeps probes and sockets in TMPDIR: inside the test's own folder, not /tmp.
    TMPDIR: home,
    ANTHROPIC_BASE_URL: apiUrl,
    ANTHROPIC_API_KEY: apiKey ?? undefined,
    ANTHROPIC_AUTH_TOKEN: undefined,
    CLAUDE_CODE_OAUTH_TOKEN: undefined,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    // A consumer spawned with this environment passes the markers on to its Claude Code processes.
    AUTOPOLL_CLAUDE_ENV: MARKERS.join(','),
  };
}

/** A Claude answerer on the fake API: 2 sessions, generous limits, a short interrupt grace. */
export function testClaudeAnswerer(api: FakeAnthropic, extra: Partial<ClaudeAnswererOptions> = {}, logger: Logger = testLogger()): ClaudeAnswerer {
  return new ClaudeAnswerer(
    { sessions: 2, model: 'haiku', turnTimeoutSec: 30, maxTurnsPerSession: 1000, maxContextTokens: 1_000_000, sessionMemory: 'none', env: claudeEnv(api.url), passEnv: MARKERS, interruptGraceMs: 2000, ...extra },
    logger,
  );
}
