import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './bridge.js';

/**
 * The environment a real Claude Code process needs to talk to the fake API only: its own HOME
 * and config folder, any key, and no non-essential traffic (there is no network here).
 */
export function claudeEnv(apiUrl: string): NodeJS.ProcessEnv {
  const home = tempDir('autopoll-claude-home-');
  mkdirSync(join(home, '.claude'), { recursive: true });
  return {
    PATH: process.env.PATH,
    HOME: home,
    CLAUDE_CONFIG_DIR: join(home, '.claude'),
    ANTHROPIC_BASE_URL: apiUrl,
    ANTHROPIC_API_KEY: 'sk-ant-test-key',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
  };
}
