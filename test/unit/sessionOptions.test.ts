import { describe, expect, it } from 'vitest';
import { sessionQueryOptions, type SessionSettings } from '../../src/consumer/claude/sessionOptions.js';
import { SHARD_SYSTEM_PROMPT } from '../../src/consumer/claude/prompt.js';
import { READ_ONLY_TOOLS } from '../../src/consumer/claude/toolPolicy.js';

const ignore = { onStderr: () => undefined, onSpawn: () => undefined };
const settings: SessionSettings = {
  model: 'haiku',
  cwd: '/tmp',
  tools: false,
  env: { PATH: '/bin', ANTHROPIC_API_KEY: 'sk-ant-x', REDIS_URL: 'redis://:secret@h:1', AUTOPOLL_BOARD_TOKEN: 't', MY_VAR: 'v', OTHER: 'o', DISABLE_TELEMETRY: '0' },
};

describe('sessionQueryOptions', () => {
  it("gives Claude Code the allowlisted environment over the defaults, the passed variables, never autopoll's secrets", () => {
    const env = sessionQueryOptions({ ...settings, passEnv: ['MY_VAR', 'REDIS_URL'] }, ignore).env!;
    expect(env).toMatchObject({ PATH: '/bin', ANTHROPIC_API_KEY: 'sk-ant-x', MY_VAR: 'v', CLAUDE_CODE_DISABLE_CLAUDE_MDS: '1' });
    // The consumer's own value wins over a default.
    expect(env.DISABLE_TELEMETRY).toBe('0');
    for (const name of ['REDIS_URL', 'AUTOPOLL_BOARD_TOKEN', 'OTHER']) expect(env).not.toHaveProperty(name);
  });

  it('reads nothing it was not given: no settings files, MCP servers, plugins, skills or transcripts', () => {
    const o = sessionQueryOptions(settings, ignore);
    expect(o).toMatchObject({ model: 'haiku', cwd: '/tmp', settingSources: [], strictMcpConfig: true, mcpServers: {}, plugins: [], skills: [], persistSession: false });
    expect(o.systemPrompt).toBe(SHARD_SYSTEM_PROMPT);
    expect(o.allowedTools).toEqual([]);
    expect(o).not.toHaveProperty('pathToClaudeCodeExecutable');
  });

  it('has the read-only tools only when asked, guarded by the policy and its hook; runs the binary given', () => {
    expect(sessionQueryOptions(settings, ignore).tools).toEqual([]);
    const o = sessionQueryOptions({ ...settings, tools: true, executable: '/opt/claude' }, ignore);
    expect(o.tools).toEqual(READ_ONLY_TOOLS);
    expect(o.canUseTool).toBeTypeOf('function');
    expect(o.hooks?.PreToolUse).toHaveLength(1);
    expect(o.pathToClaudeCodeExecutable).toBe('/opt/claude');
  });
});
