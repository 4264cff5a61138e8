/**
 * Consumer spawn -> its first Claude Code session warm: `consumer --sessions 1` with the real
 * Claude Code binary (the one the Agent SDK ships) against the fake Anthropic API, on a private
 * redis-server, until it logs `Claude Code session ready`.
 */
import { performance } from 'node:perf_hooks';
import { waitFor } from '../../test/support/wait.js';
import { setUpRun } from '../claude/setup.js';
import { BenchStack } from '../stack.js';

const WARM = 'Claude Code session ready';

export async function timeClaudeWarm(runs: number, log: (line: string) => void): Promise<number[]> {
  const undo: Array<() => Promise<void>> = [];
  const stack = await BenchStack.start('startup-claude');
  try {
    const { env } = await setUpRun(undo);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const spawnedAt = performance.now();
      const consumer = stack.service({ name: `consumer ${i} (startup, claude)`, args: ['consumer', ...stack.commonArgs('info'), '--answerer', 'claude', '--sessions', '1'], env });
      await waitFor(`the consumer to log \`${WARM}\``, () => (consumer.logged.get(WARM) ?? 0) > 0, { timeoutMs: 120_000, everyMs: 5, guard: [consumer] });
      times.push(performance.now() - spawnedAt);
      log(`[startup]   consumer ${i + 1}: first Claude Code session warm after ${Math.round(times[i]!)} ms`);
      await consumer.stop();
    }
    return times;
  } finally {
    await stack.close();
    for (const u of undo.reverse()) await u();
  }
}
