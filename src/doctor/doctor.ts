import type { ConversationGrant } from '../bridge/conversations.js';
import type { RedisTarget } from '../shared/redisTarget.js';
import type { Check } from '../shared/checks.js';
import { bridgeCheck } from './bridgeChecks.js';
import { claudeCheck } from './claudeCheck.js';
import { contextRootCheck } from './contextRootCheck.js';
import { ownedFiles } from '../shared/ownedFiles.js';
import { conversationsCheck } from './conversationChecks.js';
import { redisChecks } from './redisChecks.js';

export interface DoctorOptions {
  /** A plain URL is one redis-server. */
  redis: string | RedisTarget;
  bridgeDb: string;
  conversations: readonly ConversationGrant[];
  role: string | undefined;
  contextRoot: string;
  answerer: 'claude' | 'stub';
  model: string;
  skipClaude: boolean;
  /** Claude Code's environment; the process's own by default, as the consumer does. */
  claudeEnv?: NodeJS.ProcessEnv;
  /** Variables Claude Code gets besides the allowlist (--claude-env), as the consumer passes them. */
  claudePassEnv?: readonly string[];
  claudeTimeoutMs?: number;
}

/** The checks of `autopoll doctor`, in the order they are reported. */
export function doctorChecks(o: DoctorOptions): Check[] {
  const skipReason = o.answerer === 'stub' ? 'the stub answerer does not use Claude Code (--answerer stub)' : o.skipClaude ? '--skip-claude' : undefined;
  return [
    redisChecks(o.redis),
    bridgeCheck(o.bridgeDb),
    conversationsCheck(o.bridgeDb, o.conversations, o.role),
    contextRootCheck(o.contextRoot, ownedFiles(o.bridgeDb)),
    claudeCheck({
      model: o.model,
      skipReason,
      ...(o.claudeEnv ? { env: o.claudeEnv } : {}),
      ...(o.claudePassEnv ? { passEnv: o.claudePassEnv } : {}),
      ...(o.claudeTimeoutMs ? { timeoutMs: o.claudeTimeoutMs } : {}),
    }),
  ];
}
