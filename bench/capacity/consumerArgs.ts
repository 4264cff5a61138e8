/**
 * The one place the capacity benchmark builds a Claude consumer's command line, for its size
 * phases and for the shard comparison alike.
 */
import type { BenchStack } from '../stack.js';

/**
 * `consumer --answerer claude --sessions N --min-sessions N` on the stack: every session warm
 * before the questions are asked (the pool is elastic; this measures its capacity, not its growth).
 */
export function claudeConsumerArgs(stack: BenchStack, sessions: number): string[] {
  return ['consumer', ...stack.commonArgs('info'), '--answerer', 'claude', '--sessions', String(sessions), '--min-sessions', String(sessions), '--turn-timeout', '60'];
}
