import type { CanUseTool, HookCallbackMatcher } from '@anthropic-ai/claude-agent-sdk';
import { realpathSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isInside, NOTHING_OWNED, type OwnedFiles } from '../../shared/ownedFiles.js';
import { toolFileRefusal } from './toolsRootFiles.js';

/** The only tools a session has: reading. No Bash, Write, Edit, web: questions may carry injections. */
export const READ_ONLY_TOOLS = ['Read', 'Grep', 'Glob'];

const PATH_KEYS = ['file_path', 'path', 'notebook_path'];
/** Glob patterns (Glob's pattern, Grep's glob) that could reach out of the root. */
const PATTERN_KEYS: Record<string, string[]> = { Glob: ['pattern'], Grep: ['glob'] };

/** Real path when it exists (a link inside the root may point out), else the resolved one. */
function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Why a tool call is refused, or undefined: a read-only tool on a path inside `root` passes,
 * anything else gets a reason the model sees. A file inside is still refused when it is one of
 * autopoll's own (`owned`, by identity: a hard link is caught) or holds SQLite pages.
 */
function refusalOf(rootReal: string, owned: OwnedFiles): (toolName: string, input: Record<string, unknown>) => Promise<string | undefined> {
  return async (toolName, input) => {
    if (!READ_ONLY_TOOLS.includes(toolName)) return `${toolName} is not available: this session can only read files under the context root`;
    for (const key of PATH_KEYS) {
      const value = input[key];
      if (value === undefined) continue;
      const path = typeof value === 'string' && !value.startsWith('~') ? real(resolve(rootReal, value)) : undefined;
      if (path === undefined || !isInside(rootReal, path)) return `${String(value)} is outside the context root; only files under it can be read`;
      const refusal = await toolFileRefusal(path, owned);
      if (refusal !== undefined) return `${value as string} ${refusal}`;
    }
    for (const key of PATTERN_KEYS[toolName] ?? []) {
      const value = input[key];
      if (typeof value === 'string' && (isAbsolute(value) || value.startsWith('~') || value.split(/[\\/]/).includes('..'))) {
        return `the pattern ${value} reaches outside the context root`;
      }
    }
    return undefined;
  };
}

/** Every tool call that reaches the permission check: allowed, or denied with the reason. */
export function readOnlyPolicy(root: string, owned = NOTHING_OWNED): CanUseTool {
  const refusal = refusalOf(real(resolve(root)), owned);
  return async (toolName, input) => {
    const reason = await refusal(toolName, input);
    return reason === undefined ? { behavior: 'allow', updatedInput: input } : { behavior: 'deny', message: reason };
  };
}

/**
 * The same rule before every tool call: Claude Code runs Read, Grep and Glob inside its working
 * folder without asking canUseTool, so a hard link to the bridge file there would be read. A
 * hook that fails blocks the call.
 */
export function readOnlyHook(root: string, owned = NOTHING_OWNED): HookCallbackMatcher {
  const refusal = refusalOf(real(resolve(root)), owned);
  return {
    onFailure: 'block',
    hooks: [
      async (input) => {
        if (input.hook_event_name !== 'PreToolUse') return {};
        const reason = await refusal(input.tool_name, (input.tool_input ?? {}) as Record<string, unknown>);
        if (reason === undefined) return {};
        return { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: reason } };
      },
    ],
  };
}
