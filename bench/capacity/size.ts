/**
 * One size of the capacity benchmark on its own stack: `consumer --sessions N` warm, then the
 * producer, then every question asked at once; measured until the last answer row, then the
 * exactly-once check.
 */
import { exactlyOnce } from '../../test/support/exactlyOnce.js';
import { round } from '../../test/support/numbers.js';
import type { CapacityConfig, CapacitySize } from '../capacity.js';
import { distribution } from '../numbers.js';
import { BenchStack } from '../stack.js';
import { AnswerCounter } from '../bridgeTraffic.js';
import { answerTimes, askAll, startWarmConsumer } from './host.js';
import { CPU_PARTS, HostMeter } from './hostMeter.js';
import { answerMark } from '../claude/questions.js';

export async function runSize(sessions: number, config: CapacityConfig, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<CapacitySize> {
  const tag = `capacity-${sessions}`;
  const questions = Math.max(1, sessions * config.questionsPerSession);
  const stack = await BenchStack.start(tag);
  try {
    const conv = stack.bridge.createConversation();
    const { consumer, readySec } = await startWarmConsumer(stack, sessions, env, `consumer (${tag})`);
    const { producer } = await stack.startProducer(conv, { name: `producer (${tag})` });
    log(`[${tag}] ${sessions} sessions warm after ${readySec} s; asking ${questions} questions at once`);
    const guard = [producer, consumer];
    const answers = new AnswerCounter(stack.bridge, conv, guard);
    const mark = answers.mark();
    const meter = new HostMeter({ producer: producer.pid, consumer: consumer.pid, redis: stack.redisPid });
    meter.start();
    const asked = askAll(stack.bridge, conv, tag, questions);
    await answers.waitFor(mark, questions, 60_000 + (questions / sessions) * (config.latencyMs + 5_000));
    const use = await meter.stop();
    const times = answerTimes(stack.bridge, conv);
    const check = exactlyOnce(stack.bridge, conv.id, asked, { expectedAnswer: answerMark });
    const qps = times.spanSec > 0 ? round(questions / times.spanSec, 2) : 0;
    const perQuestion = (sec: number | null) => (sec === null ? null : round((sec / questions) * 1000, 0));
    const size: CapacitySize = {
      sessions,
      questions,
      consumerReadySec: readySec,
      totalSec: round(times.spanSec, 2),
      questionsPerSec: qps,
      idealQps: null,
      speedup: null,
      target: null,
      questionMs: distribution(times.perQuestionMs),
      cpuMsPerQuestion: Object.fromEntries(CPU_PARTS.map((p) => [p, perQuestion(use.cpuSec[p])])) as CapacitySize['cpuMsPerQuestion'],
      cpuSec: use.cpuSec,
      meteredSec: use.wallSec,
      rssPerSessionMB: use.rssPerSessionMB,
      rssTotalMB: use.rssTotalMB,
      check,
      logLines: { warnings: producer.warnings + consumer.warnings, errors: producer.errors + consumer.errors, first: guard.flatMap((p) => p.notable.map((m) => `${p.name} ${m}`)).slice(0, 5) },
    };
    log(`[${tag}]   ${questions} answered in ${size.totalSec} s: ${qps} q/s; p50 ${size.questionMs?.p50} ms, p99 ${size.questionMs?.p99} ms; Claude Code ${size.cpuMsPerQuestion.claude} ms CPU a question; ${use.rssPerSessionMB?.p50 ?? '-'} MB a session`);
    return size;
  } finally {
    await stack.close();
  }
}
