import type { Options } from '@anthropic-ai/claude-agent-sdk';
import type { ChildProcess } from 'node:child_process';
import type { OwnedFiles } from '../../shared/ownedFiles.js';
import { spawnInGroup } from './processTree.js';
import { SHARD_SYSTEM_PROMPT } from './prompt.js';
import { SESSION_ENV_DEFAULTS, sessionEnv } from './sessionEnv.js';
import { READ_ONLY_TOOLS, readOnlyHook, readOnlyPolicy } from './toolPolicy.js';

/** What a Claude Code session is started with. */
export interface SessionSettings {
  model: string;
  /** The session's working folder, and what its read-only tools may read. */
  cwd: string;
  /** Give the session the read-only tools; without them it answers from the prompt alone. */
  tools: boolean;
  /** Files the tools never read, whatever link or name reaches them (the bridge file when known). */
  owned?: OwnedFiles | undefined;
  /** The consumer's environment: the session gets only its allowlisted part (sessionEnv.ts). */
  env: NodeJS.ProcessEnv;
  /** Variables passed besides the allowlist (--claude-env). */
  passEnv?: readonly string[] | undefined;
  /** Claude Code binary; the SDK's own when unset. */
  executable?: string | undefined;
}

/** Where the process Claude Code runs in is reported: its stderr as it comes, the process once spawned. */
export interface SessionProcessWatch {
  onStderr: (text: string) => void;
  onSpawn: (child: ChildProcess) => void;
}

/**
 * The Agent SDK options of a session, the one place they are decided: the consumer's sessions and
 * the doctor's probe both start Claude Code with them, so the doctor checks what the consumer runs.
 * Its process is spawned in a group of its own, so that it can be killed with all it started.
 */
export function sessionQueryOptions(s: SessionSettings, watch: SessionProcessWatch): Options {
  return {
    model: s.model,
    cwd: s.cwd,
    // Never the consumer's whole environment: REDIS_URL, conversation and board tokens stay out.
    env: { ...SESSION_ENV_DEFAULTS, ...sessionEnv(s.env, s.passEnv) },
    settingSources: [],
    // Nothing it was not given: no MCP server from any config file, no plugin, no skill.
    strictMcpConfig: true,
    mcpServers: {},
    plugins: [],
    skills: [],
    // A service answering for days must not grow a transcript file per question on disk.
    persistSession: false,
    systemPrompt: SHARD_SYSTEM_PROMPT,
    tools: s.tools ? READ_ONLY_TOOLS : [],
    allowedTools: [],
    permissionMode: 'default',
    canUseTool: readOnlyPolicy(s.cwd, s.owned),
    hooks: { PreToolUse: [readOnlyHook(s.cwd, s.owned)] },
    ...(s.executable ? { pathToClaudeCodeExecutable: s.executable } : {}),
    spawnClaudeCodeProcess: (spawnOptions) => {
      const child = spawnInGroup(spawnOptions, watch.onStderr);
      watch.onSpawn(child);
      return child;
    },
  };
}
