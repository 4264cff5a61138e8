/**
 * The one place the capacity benchmark builds a Claude consumer's command line, for its size
 * phases and for the shard comparison alike.
 */
import type { BenchStack } from '../stack.js';

/**
 * `consumer --answerer claude --sessions N` on the stack. Every session must be warm before the
 * questions are asked: when the pool is elastic, `--min-sessions N` goes here.
 */
export function claudeConsumerArgs(stack: BenchStack, sessions: number): string[] {
  return ['consumer', ...stack.commonArgs('info'), '--answerer', 'claude', '--sessions', String(sessions), '--turn-timeout', '60'];
}
