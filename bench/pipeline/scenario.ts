/**
 * One scenario of the pipeline benchmark on its own stack: the bridge seeded with old messages
 * (or not), producer and consumer started, a warm-up, then the latency and the throughput phases,
 * and the answered-once check of the bridge.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BridgeFixture, Conversation } from '../../test/support/bridge.js';
import { seedOldMessages } from '../oldMessages.js';
import type { PipelineConfig, ScenarioResult } from '../pipeline.js';
import { type AutopollProcess } from '../../test/support/cli.js';
import { checkBridge } from '../../test/support/exactlyOnce.js';
import { round } from '../../test/support/numbers.js';
import { AnswerCounter, insertMany } from '../bridgeTraffic.js';
import { BenchStack } from '../stack.js';
import { measureLatency } from './latency.js';
import { measureThroughputRuns } from './throughput.js';

export async function runScenario(scenario: string, oldMessages: number, config: PipelineConfig, log: (line: string) => void): Promise<ScenarioResult> {
  const stack = await BenchStack.start(scenario);
  try {
    const { bridge } = stack;
    const conv = bridge.createConversation();
    const seed = oldMessages > 0 ? await seedOld(scenario, bridge, oldMessages, log) : null;
    const { producer, producerReadySec, consumer } = await startServices(scenario, stack, conv, config, log);
    const answers = new AnswerCounter(bridge, conv, [producer, consumer]);
    let asked = await warmUp(bridge, conv, answers, config);

    log(`[${scenario}] pickup latency: ${config.latencyN} questions, one every ~${config.latencyGapMs} ms`);
    const latency = await measureLatency(bridge, conv, stack.questions, answers, config);
    asked += config.latencyN;
    log(`[${scenario}]   pickup p50 ${latency.pickupMs?.p50} ms, p99 ${latency.pickupMs?.p99} ms`);

    log(`[${scenario}] throughput: ${config.throughputN.toLocaleString('en-US')} questions, inserted in transactions of ${config.insertBatch}, ${config.throughputRepeat} runs`);
    const pids = { producer: producer.pid, consumer: consumer.pid, redis: stack.redisPid, bench: process.pid };
    const runs = await measureThroughputRuns(scenario, stack, conv, answers, config, pids, log);
    asked += runs.throughputRuns.length * config.throughputN;

    // Anything left in flight (after a timeout) gets a moment, then the bridge is checked.
    if (runs.throughput.timedOut) await sleep(1000);
    const check = checkBridge(bridge, conv, asked);
    await consumer.stop();
    await producer.stop();
    return { scenario, oldMessages, seed, producerReadySec, latency, ...runs, check, logLines: logLines(producer, consumer) };
  } finally {
    await stack.close();
  }
}

/** Old traffic of other conversations, inserted before the producer starts. */
async function seedOld(scenario: string, bridge: BridgeFixture, oldMessages: number, log: (line: string) => void): Promise<ScenarioResult['seed']> {
  log(`[${scenario}] inserting ${oldMessages.toLocaleString('en-US')} old messages`);
  const seed = await seedOldMessages(bridge, oldMessages);
  seed.seconds = round(seed.seconds, 1);
  log(`[${scenario}]   done in ${seed.seconds} s, bridge file ${seed.fileMB} MB`);
  return seed;
}

/** The producer (waited for until its first heartbeat) and the consumer with the stub answerer. */
async function startServices(
  scenario: string, stack: BenchStack, conv: Conversation, config: PipelineConfig, log: (line: string) => void,
): Promise<{ producer: AutopollProcess; producerReadySec: number; consumer: AutopollProcess }> {
  const prof = (who: string) => (config.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${config.cpuProfDir}`, `--cpu-prof-name=${scenario}-${who}.cpuprofile`] : []);
  log(`[${scenario}] starting producer and consumer (stub answerer, --sessions ${config.sessions})`);
  const { producer, readySec: producerReadySec } = await stack.startProducer(conv, { name: `producer (${scenario})`, nodeArgs: prof('producer') });
  log(`[${scenario}]   producer ready after ${producerReadySec} s`);
  const consumer = stack.service({
    name: `consumer (${scenario})`,
    args: ['consumer', ...stack.commonArgs(), '--answerer', 'stub', '--sessions', String(config.sessions)],
    nodeArgs: prof('consumer'),
  });
  return { producer, producerReadySec, consumer };
}

/** One round trip proves the whole pipeline is up; then a warm-up batch for the JIT. The questions it asked. */
async function warmUp(bridge: BridgeFixture, conv: Conversation, answers: AnswerCounter, config: PipelineConfig): Promise<number> {
  let asked = 0;
  const roundTrip = answers.mark();
  bridge.ask(conv.id, 'ping_0', 'Is the pipeline up?');
  asked++;
  await answers.waitFor(roundTrip, 1, 60_000);
  if (config.warmupN > 0) {
    const warm = answers.mark();
    await insertMany(bridge, conv, 'warm', config.warmupN, config.insertBatch);
    asked += config.warmupN;
    await answers.waitFor(warm, config.warmupN, 60_000);
  }
  return asked;
}

function logLines(producer: AutopollProcess, consumer: AutopollProcess): ScenarioResult['logLines'] {
  return {
    producerWarnings: producer.warnings, producerErrors: producer.errors, consumerWarnings: consumer.warnings, consumerErrors: consumer.errors,
    first: [...producer.notable.map((m) => `producer ${m}`), ...consumer.notable.map((m) => `consumer ${m}`)],
  };
}
