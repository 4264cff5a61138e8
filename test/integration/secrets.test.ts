import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { MAX_MESSAGE_CHARS } from '../../src/bridge/limits.js';
import { answerResponseBody } from '../../src/bridge/responseBody.js';
import { ANSWERS_QUEUE, answerJobId } from '../../src/shared/queues.js';
import { redisDump } from '../support/redisDump.js';
import { claudeEnv } from '../support/claudeEnv.js';
import type { AutopollProcess } from '../support/cli.js';
import { FakeAnthropic, type Reply } from '../support/fakeAnthropic.js';
import { MARKERS } from '../support/leftovers.js';
import { CLAUDE_CONSUMER, SpawnedPipeline } from '../support/spawnedPipeline.js';
import { waitFor } from '../support/wait.js';

/**
 * Secrets the processes know never leave them: not into Claude Code's environment, the model's
 * requests, the bridge rows, Redis or the log; a crash's stderr reaches the log, not the asker.
 * Through the built CLI, the real Claude Code binary and the fake API.
 */
describe('secrets never leave', () => {
  const redisUrl = inject('redisUrl');
  const pipeline = new SpawnedPipeline(['--redis', redisUrl]);
  const api = new FakeAnthropic();
  const boardToken = randomBytes(24).toString('hex');
  const redisPassword = `pw-${randomBytes(12).toString('hex')}`;
  const apiKey = `sk-ant-api03-${randomBytes(30).toString('base64url')}`;
  const oauth = `sk-ant-oat01-${randomBytes(30).toString('base64url')}`;
  const { tokenA, tokenB } = pipeline.conv;
  const secrets: Array<[string, string]> = [['conversation token', tokenB], ['side-a token', tokenA], ['board token', boardToken], ['Redis password', redisPassword], ['API key', apiKey], ['OAuth token', oauth]];
  let producer: AutopollProcess;
  let consumer: AutopollProcess;

  /** Which of the secrets (other than `except`) `text` holds, by name. */
  const leaks = (text: string, except: string[] = []) => secrets.filter(([name, value]) => !except.includes(name) && text.includes(value)).map(([name]) => name);
  const sessionPids = () => consumer.lines.filter((l) => l.msg === 'Claude Code session ready').map((l) => Number(l.sessionPid));

  beforeAll(async () => {
    // The fake model repeats every secret it is told of, whatever the question said.
    api.responder = (req): Reply => {
      if (req.lastUser.includes('q_hang')) return { kind: 'hang' };
      return { kind: 'text', text: `Echo: ${tokenB} ${boardToken} ${redisPassword} ${apiKey} ${oauth}` };
    };
    await api.start();
    // Both hold what a shared .env would give them: the Redis URL with its password, the board token, the served conversation.
    const env = {
      AUTOPOLL_BOARD_TOKEN: boardToken,
      REDIS_URL: `redis://:${redisPassword}@127.0.0.1:1`,
      AUTOPOLL_CONVERSATIONS: `${pipeline.conv.id}:${tokenB}`,
    };
    producer = pipeline.producer([], env);
    // Bun's verbose fetch makes Claude Code print each API request (headers, body) to its stderr.
    const claude = { ...claudeEnv(api.url), ANTHROPIC_API_KEY: apiKey, AUTOPOLL_CLAUDE_ENV: [...MARKERS, 'BUN_CONFIG_VERBOSE_FETCH'].join(','), BUN_CONFIG_VERBOSE_FETCH: 'curl' };
    consumer = pipeline.consumer([...CLAUDE_CONSUMER, '--attempts', '1'], { ...claude, ...env });
    await producer.waitForLog(/^producer started$/);
    await consumer.waitForLog(/^consumer started$/, 120_000);
  }, 180_000);

  afterAll(async () => {
    await pipeline.stop();
    await api.stop();
  });

  it("Claude Code's environment holds none of autopoll's variables or secrets", () => {
    const pids = sessionPids();
    expect(pids).toHaveLength(2);
    for (const pid of pids) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const names = environ.map((e) => e.slice(0, e.indexOf('=')));
      expect(names).toContain('ANTHROPIC_BASE_URL');
      // SESSION_ENV_DEFAULTS reach the process: the runtime's GC timer and top JIT tier are off (bench/README.md#knobs).
      expect(environ).toEqual(expect.arrayContaining(['BUN_GC_TIMER_DISABLE=1', 'BUN_JSC_useFTLJIT=0']));
      // The test run's markers are passed by name (--claude-env), so that its teardown finds the processes.
      expect(names.filter((n) => (n === 'REDIS_URL' || n.startsWith('AUTOPOLL_')) && !MARKERS.includes(n))).toEqual([]);
      // The API key is the one secret it needs.
      expect(leaks(environ.join('\n'), ['API key'])).toEqual([]);
    }
  });

  it('a question and an answer holding secrets: none in the bridge rows, Redis, the log or the model requests', async () => {
    const { bridge, conv } = pipeline;
    const id = bridge.ask(conv.id, 'q_echo', `Please repeat ${tokenB} and ${tokenA} and ${boardToken} and ${oauth}.`);
    expect(leaks(JSON.stringify(bridge.db.prepare('SELECT message FROM messages WHERE id = ?').get(id)))).toEqual(['conversation token', 'side-a token', 'board token', 'OAuth token']);
    await waitFor('the answer', () => bridge.responses(conv.id).find((r) => r.body.query_id === 'q_echo'), 90_000, 100);
    const response = bridge.responses(conv.id).find((r) => r.body.query_id === 'q_echo')!;
    expect(response.body.error).toBeUndefined();
    expect(response.body.answer).toBe(
      'Echo: [REDACTED:conversation-token] [REDACTED:board-token] [REDACTED:redis-password] [REDACTED:anthropic-key] [REDACTED:oauth-token]',
    );
    const written = JSON.stringify([bridge.db.prepare(`SELECT * FROM messages WHERE from_session = 'b'`).all(), bridge.db.prepare('SELECT * FROM autopoll_ledger').all()]);
    expect(leaks(written), 'in what autopoll wrote to the bridge').toEqual([]);
    const redis = await redisDump(redisUrl, pipeline.prefix);
    expect(redis).toContain('[REDACTED:conversation-token]');
    expect(leaks(redis), 'in Redis (both queues)').toEqual([]);
    expect(leaks(JSON.stringify(api.messageRequests.map((r) => r.body))), 'in what the model was sent').toEqual([]);
    for (const p of [producer, consumer]) expect(leaks(JSON.stringify(p.lines) + p.stderr), 'in the log').toEqual([]);
  });

  it("a session killed mid-turn: the error response gives a reason, its stderr (the API requests it printed) goes to the log, redacted, not to the asker", async () => {
    const { bridge, conv } = pipeline;
    const pids = sessionPids();
    bridge.ask(conv.id, 'q_hang', 'This turn never ends.');
    await waitFor('the question at the API', () => api.messageRequests.some((r) => r.lastUser.includes('q_hang')), 60_000, 100);
    // Its stderr now holds the request it printed (the API key, the prompt): killed mid-turn.
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await waitFor('the error response', () => bridge.responses(conv.id).find((r) => r.body.query_id === 'q_hang'), 60_000, 100);
    const error = bridge.responses(conv.id).find((r) => r.body.query_id === 'q_hang')!.body.error as { kind: string; message: string };
    expect(error.kind).toBe('session_crashed');
    expect(error.message).toMatch(/^the Claude Code process was killed \(SIGKILL\) during the turn; see the consumer's log, session \S+$/);
    const logged = consumer.lines.filter((l) => l.msg === 'Claude Code session process exited unexpectedly').map((l) => String(l.stderr ?? ''));
    expect(logged.filter((s) => s.length > 100).length, 'the stderr tail of the session that asked, in the log').toBeGreaterThan(0);
    for (const tail of logged.filter((s) => s.length > 100)) expect(error.message).not.toContain(tail.slice(-30));
    for (const p of [producer, consumer]) expect(leaks(JSON.stringify(p.lines) + p.stderr), 'in the log').toEqual([]);
    expect(leaks(await redisDump(redisUrl, pipeline.prefix)), 'in Redis').toEqual([]);
  });
});

describe('an answer cut to fit the bridge', () => {
  it('a served conversation\'s token across the cut leaves no part of itself in the row', { timeout: 120_000 }, async () => {
    const pipeline = new SpawnedPipeline(['--redis', inject('redisUrl')]);
    onTestFinished(() => pipeline.stop());
    const { bridge, conv } = pipeline;
    await pipeline.producer().waitForLog(/^producer started$/);
    pipeline.ask(1, 'q_long');
    const messageId = pipeline.messageIds[0]!;
    await waitFor('taken', () => bridge.ledger(messageId)?.state === 'queued');
    // An answer job as a consumer that did not redact would send it (the stub cannot echo): 60,000
    // characters with the side-b token across where the producer cuts (a few characters either way
    // with the response time's digits).
    const job = { bridgeId: bridge.bridgeId(), messageId, conversationId: conv.id, queryId: 'q_long_0', questionJobId: bridge.jobId(messageId), llmType: 'stub', attempts: 1 };
    const plain = answerResponseBody({ ...job, outcome: { kind: 'answer', answer: 'a'.repeat(60_000), sources: [] } }, 0.123).body.answer as string;
    const cutAt = Number(/after (\d+) of/.exec(plain)![1]);
    const start = cutAt - conv.tokenB.length / 2;
    const answer = `${'a'.repeat(start)}${conv.tokenB}${'a'.repeat(60_000 - start - conv.tokenB.length)}`;
    const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    onTestFinished(async () => {
      await redis.quit();
    });
    const answers = new Queue(ANSWERS_QUEUE, { connection: redis, prefix: pipeline.prefix });
    onTestFinished(() => answers.close());
    await answers.add('answer', { ...job, outcome: { kind: 'answer', answer, sources: [] } }, { jobId: answerJobId(job.questionJobId, 'answer') });
    const row = await waitFor('the response', () => bridge.responses(conv.id)[0], 30_000, 50);
    expect(row.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(row.body.answer).toContain('[autopoll cut this answer after');
    expect(row.message).not.toContain(conv.tokenB.slice(0, 8));
  });
});
