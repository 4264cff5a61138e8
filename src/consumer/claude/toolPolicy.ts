import type { CanUseTool } from '@anthropic-ai/claude-agent-sdk';
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { OwnedFiles } from '../../shared/ownedFiles.js';
import { toolFileRefusal } from './toolsRootFiles.js';

/** The only tools a session has: reading. No Bash, Write, Edit, web: questions may carry injections. */
export const READ_ONLY_TOOLS = ['Read', 'Grep', 'Glob'];

const PATH_KEYS = ['file_path', 'path', 'notebook_path'];
/** Glob patterns (Glob's pattern, Grep's glob) that could reach out of the root. */
const PATTERN_KEYS: Record<string, string[]> = { Glob: ['pattern'], Grep: ['glob'] };

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Real path when it exists (a link inside the root may point out), else the resolved one. */
function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Every tool call that reaches the permission check: a read-only tool on a path inside `root`
 * is allowed, anything else denied with a reason the model sees. A file inside is still denied
 * when it is one of autopoll's own (`owned`, by identity: a hard link is caught) or SQLite pages.
 */
export function readOnlyPolicy(root: string, owned: OwnedFiles = { bridgeFiles: [], dirs: [] }): CanUseTool {
  const rootReal = real(resolve(root));
  return async (toolName, input) => {
    if (!READ_ONLY_TOOLS.includes(toolName)) {
      return { behavior: 'deny', message: `${toolName} is not available: this session can only read files under the context root` };
    }
    for (const key of PATH_KEYS) {
      const value = input[key];
      if (value === undefined) continue;
      const path = typeof value === 'string' && !value.startsWith('~') ? real(resolve(rootReal, value)) : undefined;
      if (path === undefined || !inside(rootReal, path)) return { behavior: 'deny', message: `${String(value)} is outside the context root; only files under it can be read` };
      const refusal = await toolFileRefusal(path, owned);
      if (refusal !== undefined) return { behavior: 'deny', message: `${value as string} ${refusal}` };
    }
    for (const key of PATTERN_KEYS[toolName] ?? []) {
      const value = input[key];
      if (typeof value === 'string' && (isAbsolute(value) || value.startsWith('~') || value.split(/[\\/]/).includes('..'))) {
        return { behavior: 'deny', message: `the pattern ${value} reaches outside the context root` };
      }
    }
    return { behavior: 'allow', updatedInput: input };
  };
}
