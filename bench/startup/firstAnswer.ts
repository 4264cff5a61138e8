/**
 * Producer spawn -> the first answer row: on a private redis-server, a stub consumer started and
 * warm (it logged `consumer started`) before the first run; per run, a new conversation with a
 * question already waiting, then a producer spawned to serve it and stopped once its answer is in.
 */
import { performance } from 'node:perf_hooks';
import { waitFor } from '../../test/support/wait.js';
import { BenchStack } from '../stack.js';

export async function timeFirstAnswers(runs: number, log: (line: string) => void): Promise<number[]> {
  const stack = await BenchStack.start('startup');
  try {
    const consumer = stack.service({ name: 'consumer (startup)', args: ['consumer', ...stack.commonArgs('info'), '--answerer', 'stub', '--sessions', '1'] });
    await waitFor('the consumer to log `consumer started`', () => (consumer.logged.get('consumer started') ?? 0) > 0, { timeoutMs: 60_000, everyMs: 20, guard: [consumer] });
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const conv = stack.bridge.createConversation();
      stack.bridge.ask(conv.id, `q_startup_${i}`, `Startup question ${i}?`);
      const spawnedAt = performance.now();
      const producer = stack.service({
        name: `producer ${i} (startup)`,
        args: ['producer', ...stack.commonArgs(), '--bridge-db', stack.bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`],
      });
      await waitFor('the answer row', () => stack.bridge.responses(conv.id).length > 0, { timeoutMs: 60_000, everyMs: 2, guard: [producer, consumer] });
      times.push(performance.now() - spawnedAt);
      log(`[startup]   producer ${i + 1}: first answer after ${Math.round(times[i]!)} ms`);
      await producer.stop();
    }
    return times;
  } finally {
    await stack.close();
  }
}
