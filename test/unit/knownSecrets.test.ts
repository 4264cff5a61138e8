import { describe, expect, it } from 'vitest';
import { sessionEnv } from '../../src/consumer/claude/sessionEnv.js';
import { knownSecrets, redactKnown, secretsOf } from '../../src/shared/knownSecrets.js';
import { redactAsBridge, redactText } from '../../src/shared/redact.js';

const TOKEN = 'a3f1'.repeat(16);

describe('redactKnown', () => {
  it('replaces every occurrence of each value, longest first, and names only its kind', () => {
    const secrets = [
      { kind: 'board-token' as const, value: 'board-token-value' },
      { kind: 'conversation-token' as const, value: `${TOKEN}` },
    ];
    expect(redactKnown(`x ${TOKEN} y ${TOKEN}board-token-value`, secrets)).toBe('x [REDACTED:conversation-token] y [REDACTED:conversation-token][REDACTED:board-token]');
  });

  it("finds Anthropic's key shapes by pattern", () => {
    expect(redactKnown('a sk-ant-oat01-AbC_d-123456789 b sk-ant-api03-zzzzzzzzzzzz c sk-ant-admin01-xxxxxxxxx', [])).toBe(
      'a [REDACTED:oauth-token] b [REDACTED:anthropic-key] c [REDACTED:anthropic-key]',
    );
    expect(redactKnown('sk-ant-api03-short', [])).toBe('sk-ant-api03-short');
  });

  it("finds Anthropic's other token types: refresh tokens as OAuth tokens, any other type as a key", () => {
    expect(redactKnown('r sk-ant-ort01-Zx9_yW-8765432 s sk-ant-sid01-QwErTy12345 n sk-ant-newtype99-abcdefgh', [])).toBe(
      'r [REDACTED:oauth-token] s [REDACTED:anthropic-key] n [REDACTED:anthropic-key]',
    );
  });
});

describe('secretsOf', () => {
  it('takes the flags and the environment, ignores values under 8 characters', () => {
    const found = secretsOf(
      { conversation: [{ id: 'conv_1', token: TOKEN }], boardToken: 'b'.repeat(20), redis: 'redis://:p%40ssw0rd-x@127.0.0.1:6379' },
      {
        AUTOPOLL_CONVERSATIONS: 'conv_2:tokentwo-2222,conv_3:short',
        REDIS_URL: 'redis-sentinel://user:sentinel-pass@h1:26379,h2:26379/mymaster',
        ANTHROPIC_API_KEY: 'sk-ant-api03-key',
        CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-token',
        ANTHROPIC_AUTH_TOKEN: 'tiny',
      },
    );
    expect(found).toEqual([
      { kind: 'conversation-token', value: TOKEN },
      { kind: 'conversation-token', value: 'tokentwo-2222' },
      { kind: 'board-token', value: 'b'.repeat(20) },
      { kind: 'redis-password', value: 'p@ssw0rd-x' },
      { kind: 'redis-password', value: 'sentinel-pass' },
      { kind: 'anthropic-key', value: 'sk-ant-api03-key' },
      { kind: 'oauth-token', value: 'sk-ant-oat01-token' },
    ]);
    expect(secretsOf({ redis: 'redis://a:12345678@h1:7000,h2:7001', redisCluster: true }, {})).toEqual([{ kind: 'redis-password', value: '12345678' }]);
  });
});

describe('redactText with known secrets', () => {
  it('replaces the known values before the bridge rules, which still apply; a log line keeps valid JSON', () => {
    const quoted = 'pa"ss\\word-1';
    knownSecrets.add('redis-password', quoted);
    knownSecrets.add('conversation-token', TOKEN);
    try {
      expect(redactText(`t=${TOKEN} and password: x`)).toBe('t=[REDACTED:conversation-token] and PASSWORD_REDACTED');
      // Bridge-compatible: the bridge's own send would store the result unchanged.
      expect(redactAsBridge(redactText(`Bearer ${TOKEN}`))).toBe(redactText(`Bearer ${TOKEN}`));
      const line = JSON.stringify({ msg: `failed with ${quoted}` });
      expect(JSON.parse(knownSecrets.redactJson(line))).toEqual({ msg: 'failed with [REDACTED:redis-password]' });
    } finally {
      knownSecrets.clear();
    }
  });
});

describe('sessionEnv', () => {
  it("keeps what Claude Code needs, drops autopoll's secrets and everything else", () => {
    const env = {
      PATH: '/bin', HOME: '/h', LANG: 'C.UTF-8', LC_ALL: 'C', https_proxy: 'http://p', NO_PROXY: 'x', TMPDIR: '/t',
      ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: 'http://api', CLAUDE_CONFIG_DIR: '/c', CLAUDE_CODE_OAUTH_TOKEN: 'o', DISABLE_TELEMETRY: '1',
      REDIS_URL: 'redis://:pw@h', AUTOPOLL_CONVERSATIONS: 'c:t', AUTOPOLL_BOARD_TOKEN: 'b', AWS_REGION: 'eu', DATABASE_URL: 'pg://', GITHUB_TOKEN: 'g',
      MARKER: 'm', UNSET: undefined,
    };
    expect(Object.keys(sessionEnv(env, ['MARKER', 'REDIS_URL'])).sort()).toEqual(
      ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'AWS_REGION', 'CLAUDE_CODE_OAUTH_TOKEN', 'CLAUDE_CONFIG_DIR', 'DISABLE_TELEMETRY', 'HOME', 'LANG', 'LC_ALL', 'MARKER', 'NO_PROXY', 'PATH', 'TMPDIR', 'https_proxy'],
    );
  });
});
