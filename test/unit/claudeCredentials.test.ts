import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { credentialSource, credentialsRefusedMessage, managedSettingsFolder, noCredentialsMessage, readClaudeAuthInputs, type ClaudeAuthInputs } from '../../src/consumer/claude/credentials.js';
import { tempDir } from '../support/bridge.js';

const LOGIN = '/srv/u/.claude/.credentials.json';
const CONFIG = '/srv/u/.claude.json';
const SETTINGS = '/srv/u/.claude/settings.json';
const MANAGED = '/etc/claude-code/managed-settings.json';

/** Nothing anywhere, on Linux; each test adds one thing. */
function inputs(over: Partial<ClaudeAuthInputs> = {}): ClaudeAuthInputs {
  return {
    env: { HOME: '/srv/u', PATH: '/usr/bin' },
    platform: 'linux',
    login: { path: LOGIN, content: undefined },
    globalConfig: { path: CONFIG, content: undefined },
    managed: [{ path: MANAGED, content: undefined }],
    userSettings: { path: SETTINGS, content: undefined },
    ...over,
  };
}

describe('credentialSource', () => {
  it('none: no variable, no login, no managed helper', () => {
    expect(credentialSource(inputs())).toBeUndefined();
  });

  it.each(['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN'])('%s in the environment', (name) => {
    expect(credentialSource(inputs({ env: { [name]: 'sk-ant-secret' } }))).toBe(name);
  });

  it('an empty or blank variable is no credential', () => {
    expect(credentialSource(inputs({ env: { ANTHROPIC_API_KEY: '', ANTHROPIC_AUTH_TOKEN: '  ', CLAUDE_CODE_OAUTH_TOKEN: '' } }))).toBeUndefined();
  });

  it("follows Claude Code's order: the bearer token, the key, a managed apiKeyHelper, the OAuth token, a login", () => {
    const everything = inputs({
      env: { ANTHROPIC_AUTH_TOKEN: 't', ANTHROPIC_API_KEY: 'k', CLAUDE_CODE_OAUTH_TOKEN: 'o' },
      managed: [{ path: MANAGED, content: { apiKeyHelper: '/bin/get-key' } }],
      login: { path: LOGIN, content: { claudeAiOauth: { accessToken: 'a' } } },
    });
    expect(credentialSource(everything)).toBe('ANTHROPIC_AUTH_TOKEN');
    expect(credentialSource({ ...everything, env: { ANTHROPIC_API_KEY: 'k', CLAUDE_CODE_OAUTH_TOKEN: 'o' } })).toBe('ANTHROPIC_API_KEY');
    expect(credentialSource({ ...everything, env: { CLAUDE_CODE_OAUTH_TOKEN: 'o' } })).toBe(`the apiKeyHelper in ${MANAGED}`);
    expect(credentialSource({ ...everything, env: { CLAUDE_CODE_OAUTH_TOKEN: 'o' }, managed: [] })).toBe('CLAUDE_CODE_OAUTH_TOKEN');
    expect(credentialSource({ ...everything, env: {}, managed: [] })).toBe(`the claude.ai login in ${LOGIN}`);
  });

  it('a cloud provider switched on (1/true/yes/on) counts: its credentials are its own chain, not checked here', () => {
    for (const value of ['1', 'true', 'YES', ' on ']) {
      expect(credentialSource(inputs({ env: { CLAUDE_CODE_USE_BEDROCK: value } }))).toBe("CLAUDE_CODE_USE_BEDROCK (the provider's own credentials, not checked here)");
    }
    expect(credentialSource(inputs({ env: { CLAUDE_CODE_USE_VERTEX: '1' } }))).toMatch(/^CLAUDE_CODE_USE_VERTEX /);
    expect(credentialSource(inputs({ env: { CLAUDE_CODE_USE_FOUNDRY: 'true' } }))).toMatch(/^CLAUDE_CODE_USE_FOUNDRY /);
    expect(credentialSource(inputs({ env: { CLAUDE_CODE_USE_BEDROCK: '0', CLAUDE_CODE_USE_VERTEX: 'false' } }))).toBeUndefined();
  });

  it("a managed settings file's env block counts as the environment, and names the file", () => {
    const managed = [{ path: MANAGED, content: { env: { ANTHROPIC_API_KEY: 'k' } } }];
    expect(credentialSource(inputs({ managed }))).toBe(`ANTHROPIC_API_KEY in ${MANAGED}`);
  });

  it('`claude login`: a claude.ai token in .credentials.json, or a Console key in the global config', () => {
    expect(credentialSource(inputs({ login: { path: LOGIN, content: { claudeAiOauth: { accessToken: 'sk-ant-oat01-x', refreshToken: 'r' } } } }))).toBe(`the claude.ai login in ${LOGIN}`);
    expect(credentialSource(inputs({ login: { path: LOGIN, content: { claudeAiOauth: {} } } }))).toBeUndefined();
    expect(credentialSource(inputs({ globalConfig: { path: CONFIG, content: { primaryApiKey: 'sk-ant-api03-x' } } }))).toBe(`the Console login's key in ${CONFIG}`);
    expect(credentialSource(inputs({ globalConfig: { path: CONFIG, content: { numStartups: 3 } } }))).toBeUndefined();
  });

  it("an apiKeyHelper in the user's settings does not count: the sessions load no settings files", () => {
    expect(credentialSource(inputs({ userSettings: { path: SETTINGS, content: { apiKeyHelper: '/bin/get-key' } } }))).toBeUndefined();
  });

  it('on macOS a login may be in the keychain, which only Claude Code reads: not refused here', () => {
    expect(credentialSource(inputs({ platform: 'darwin' }))).toBe('a claude login in the macOS keychain, if there is one (not checked here)');
  });

  it('never returns the secret itself', () => {
    const found = [
      credentialSource(inputs({ env: { ANTHROPIC_API_KEY: 'sk-ant-secret' } })),
      credentialSource(inputs({ managed: [{ path: MANAGED, content: { env: { ANTHROPIC_AUTH_TOKEN: 'sk-ant-secret' } } }] })),
      credentialSource(inputs({ globalConfig: { path: CONFIG, content: { primaryApiKey: 'sk-ant-secret' } } })),
    ];
    for (const f of found) expect(f).not.toContain('sk-ant-secret');
  });
});

describe('credentials messages', () => {
  it('no credentials: where it looked, and the fix, in one line', () => {
    expect(noCredentialsMessage(inputs())).toBe(
      `no Claude credentials: none in the environment, no login in ${LOGIN}; set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN / CLAUDE_CODE_OAUTH_TOKEN), or run \`claude login\` as this user; then restart the consumer`,
    );
  });

  it("says so when the user's settings hold an apiKeyHelper the sessions will not run", () => {
    const message = noCredentialsMessage(inputs({ userSettings: { path: SETTINGS, content: { apiKeyHelper: 'x' } } }));
    expect(message).toContain(`(the apiKeyHelper in ${SETTINGS} is not used: autopoll's sessions load no settings files)`);
  });

  it('refused: what the API said, where the credentials came from, the fix', () => {
    expect(credentialsRefusedMessage('the Claude API refused the credentials (HTTP 401)', 'ANTHROPIC_API_KEY')).toBe(
      'the Claude API refused the credentials (HTTP 401); the credentials came from ANTHROPIC_API_KEY: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN / CLAUDE_CODE_OAUTH_TOKEN), or run `claude login` as this user; then restart the consumer',
    );
  });
});

describe('readClaudeAuthInputs', () => {
  it('reads the login and settings from CLAUDE_CONFIG_DIR, and the global config there too', () => {
    const dir = tempDir();
    const config = join(dir, 'config');
    mkdirSync(config);
    writeFileSync(join(config, '.credentials.json'), JSON.stringify({ claudeAiOauth: { accessToken: 'a' } }));
    writeFileSync(join(config, '.claude.json'), JSON.stringify({ primaryApiKey: 'k' }));
    writeFileSync(join(config, 'settings.json'), 'not json');
    const read = readClaudeAuthInputs({ HOME: join(dir, 'home'), CLAUDE_CONFIG_DIR: config }, { platform: 'linux', managedFolder: join(dir, 'managed') });
    expect(read.login).toEqual({ path: join(config, '.credentials.json'), content: { claudeAiOauth: { accessToken: 'a' } } });
    expect(read.globalConfig).toEqual({ path: join(config, '.claude.json'), content: { primaryApiKey: 'k' } });
    expect(read.userSettings).toEqual({ path: join(config, 'settings.json'), content: undefined });
    expect(read.managed).toEqual([{ path: join(dir, 'managed', 'managed-settings.json'), content: undefined }]);
  });

  it('without CLAUDE_CONFIG_DIR: ~/.claude for the login, ~/.claude.json for the global config', () => {
    const home = tempDir();
    mkdirSync(join(home, '.claude'));
    writeFileSync(join(home, '.claude.json'), JSON.stringify({ primaryApiKey: 'k' }));
    const read = readClaudeAuthInputs({ HOME: home }, { platform: 'linux', managedFolder: join(home, 'managed') });
    expect(read.login).toEqual({ path: join(home, '.claude', '.credentials.json'), content: undefined });
    expect(credentialSource(read)).toBe(`the Console login's key in ${join(home, '.claude.json')}`);
  });

  it("reads the managed folder's managed-settings.json and its drop-ins", () => {
    const managed = tempDir();
    mkdirSync(join(managed, 'managed-settings.d'));
    writeFileSync(join(managed, 'managed-settings.d', '10-auth.json'), JSON.stringify({ apiKeyHelper: '/bin/get-key' }));
    writeFileSync(join(managed, 'managed-settings.d', 'notes.txt'), 'not settings');
    const read = readClaudeAuthInputs({ HOME: tempDir() }, { platform: 'linux', managedFolder: managed });
    expect(read.managed.map((f) => f.path)).toEqual([join(managed, 'managed-settings.json'), join(managed, 'managed-settings.d', '10-auth.json')]);
    expect(credentialSource(read)).toBe(`the apiKeyHelper in ${join(managed, 'managed-settings.d', '10-auth.json')}`);
  });

  it('knows where each platform keeps managed settings', () => {
    expect(managedSettingsFolder('linux')).toBe('/etc/claude-code');
    expect(managedSettingsFolder('darwin')).toBe('/Library/Application Support/ClaudeCode');
    expect(managedSettingsFolder('win32')).toBe('C:\\Program Files\\ClaudeCode');
  });
});
