import type { CanUseTool } from '@anthropic-ai/claude-agent-sdk';
import { isAbsolute, relative, resolve } from 'node:path';

/** The only tools a session has: reading. No Bash, Write, Edit, web: questions may carry injections. */
export const READ_ONLY_TOOLS = ['Read', 'Grep', 'Glob'];

const PATH_KEYS = ['file_path', 'path', 'notebook_path'];

function inside(root: string, path: string): boolean {
  const rel = relative(root, resolve(root, path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Every tool call that reaches the permission check: a read-only tool on a path inside `root`
 * is allowed, anything else denied with a reason the model sees.
 */
export function readOnlyPolicy(root: string): CanUseTool {
  return async (toolName, input) => {
    if (!READ_ONLY_TOOLS.includes(toolName)) {
      return { behavior: 'deny', message: `${toolName} is not available: this session can only read files under the context root` };
    }
    for (const key of PATH_KEYS) {
      const value = input[key];
      if (typeof value === 'string' && !inside(root, value)) {
        return { behavior: 'deny', message: `${value} is outside the context root; only files under it can be read` };
      }
    }
    return { behavior: 'allow', updatedInput: input };
  };
}
