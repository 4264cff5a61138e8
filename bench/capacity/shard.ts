/**
 * The comparison with the shard autopoll replaced, at one API latency: autopoll (a warm
 * `consumer --sessions N` already running, the producer started with its questions waiting)
 * until they are answered, then, on the same stack once autopoll is stopped, the replica of the
 * old shard (bench/seedShard.py) until the questions waiting for it are answered (autopoll goes
 * first: the exactly-once check reads the ledger tables its producer makes). Each is timed from its own start (the replica's
 * spawn, the producer's spawn) to its last answer row.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { parseBridgeTimestamp } from '../../src/bridge/timestamp.js';
import { SESSION_ENV_DEFAULTS } from '../../src/consumer/claude/sessionEnv.js';
import { REPO } from '../../test/support/bridge.js';
import { hasSetpriv } from '../../test/support/cli.js';
import { exactlyOnce, type Asked } from '../../test/support/exactlyOnce.js';
import { round } from '../../test/support/numbers.js';
import { AnswerCounter, nowMs } from '../bridgeTraffic.js';
import type { CapacityConfig, ShardComparison, ShardRun } from '../capacity.js';
import { killGroup } from '../../src/consumer/claude/processTree.js';
import { answerMark } from '../claude/questions.js';
import { cleanup } from '../cleanup.js';
import { BenchStack } from '../stack.js';
import { askAll, startWarmConsumer } from './host.js';

const REPLICA = join(REPO, 'bench', 'seedShard.py');

export interface ShardSetting {
  latencyMs: number;
  replicaQuestions: number;
  autopollQuestions: number;
  /** Speed-up floor, where the issue sets one. */
  target: number | null;
}

export async function compareWithShard(setting: ShardSetting, config: CapacityConfig, env: NodeJS.ProcessEnv, toolsRoot: string, log: (line: string) => void): Promise<ShardComparison> {
  const tag = `shard-${setting.latencyMs}ms`;
  const stack = await BenchStack.start(tag);
  try {
    log(`[${tag}] autopoll: \`consumer --sessions ${config.shardSessions}\` warm, producer started with ${setting.autopollQuestions} questions waiting`);
    const autopoll = await runAutopoll(stack, setting.autopollQuestions, config, env, tag);
    log(`[${tag}]   ${autopoll.questions} in ${autopoll.totalSec} s (${autopoll.questionsPerSec} q/s; the producer serving after ${autopoll.producerReadySec} s); the old shard's replica on ${setting.replicaQuestions} waiting questions`);
    const replica = await runReplica(stack, setting.replicaQuestions, config, env, toolsRoot, tag);
    const speedup = replica.questionsPerSec > 0 ? round(autopoll.questionsPerSec / replica.questionsPerSec, 1) : null;
    log(`[${tag}]   ${replica.questions} in ${replica.totalSec} s (${replica.questionsPerSec} q/s): autopoll ${speedup ?? '-'}x the old shard${setting.target ? ` (floor >= ${setting.target}x)` : ''}`);
    return { latencyMs: setting.latencyMs, sessions: config.shardSessions, replica, autopoll, speedup, target: setting.target };
  } finally {
    await stack.close();
  }
}

async function runReplica(stack: BenchStack, n: number, config: CapacityConfig, env: NodeJS.ProcessEnv, toolsRoot: string, tag: string): Promise<ShardRun> {
  const conv = stack.bridge.createConversation();
  const asked = askAll(stack.bridge, conv, `${tag}-seed`, n);
  const args = ['python3', REPLICA, stack.bridge.path, conv.id, config.executable, 'haiku'];
  const [cmd, ...argv] = hasSetpriv() ? ['setpriv', '--pdeathsig', 'SIGTERM', '--', ...args] : args;
  const startedAt = nowMs();
  const child: ChildProcess = spawn(cmd!, argv, { cwd: toolsRoot, env: withoutSessionTuning(env), stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  const stop = cleanup.add('stop the old shard replica', () => {
    killGroup(child.pid);
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  // It runs until killed: its exit (or a failed spawn) ends the wait at once.
  const guard = {
    assertRunning: () => {
      if (spawnError || child.exitCode !== null || child.signalCode !== null) throw new Error(`the old shard's replica ${spawnError ? `did not start: ${spawnError.message}` : `exited (${child.exitCode ?? child.signalCode})`}`);
    },
  };
  try {
    // Up to a poll, then each question's process to its 60 s timeout.
    const { last } = await new AnswerCounter(stack.bridge, conv, [guard]).waitFor(asked.messageIds.at(-1)!, n, 10_000 + n * 62_000);
    // It keeps no ledger: its answers are checked, its bookkeeping is not.
    return { ...finish(stack, conv, asked, startedAt, last, false), producerReadySec: null };
  } finally {
    await stop();
  }
}

async function runAutopoll(stack: BenchStack, n: number, config: CapacityConfig, env: NodeJS.ProcessEnv, tag: string): Promise<ShardRun> {
  const conv = stack.bridge.createConversation();
  const { consumer } = await startWarmConsumer(stack, config.shardSessions, env, `consumer (${tag})`);
  const asked = askAll(stack.bridge, conv, `${tag}-autopoll`, n);
  const startedAt = nowMs();
  const { producer, readySec } = await stack.startProducer(conv, { name: `producer (${tag})` });
  const answers = new AnswerCounter(stack.bridge, conv, [consumer, producer]);
  const { last } = await answers.waitFor(asked.messageIds.at(-1)!, n, 60_000 + (n / config.shardSessions) * (config.latencyMs + 5_000));
  const run = { ...finish(stack, conv, asked, startedAt, last, true), producerReadySec: readySec };
  // Stopped before the replica runs: the machine is its alone, as the old shard's was.
  await Promise.all([producer.stop(), consumer.stop()]);
  return run;
}

function finish(stack: BenchStack, conv: { id: string }, asked: Asked, startedAtMs: number, last: string, withLedger: boolean): Omit<ShardRun, 'producerReadySec'> {
  const lastMs = (parseBridgeTimestamp(last) ?? 0) / 1000;
  const totalSec = round((lastMs - startedAtMs) / 1000, 2);
  const check = exactlyOnce(stack.bridge, conv.id, asked, { expectedAnswer: answerMark });
  const answeredOnce = check.notOnceCount === 0 && check.wrongAnswers === 0 && check.errorResponses === 0 && (!withLedger || check.ledgerWrong === 0);
  return { questions: asked.queryIds.length, totalSec, questionsPerSec: totalSec > 0 ? round(asked.queryIds.length / totalSec, 2) : 0, answeredOnce };
}

/**
 * The old shard ran `claude -p` in its user's plain environment: none of the variables autopoll's
 * sessions are started with to skip Claude Code's telemetry, update checks and other side work
 * (measured: a plain `claude -p` costs 15-25% more than a tuned one). The fake API's address and
 * the private HOME stay.
 */
function withoutSessionTuning(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const plain = { ...env };
  for (const name of Object.keys(SESSION_ENV_DEFAULTS)) delete plain[name];
  return plain;
}
