import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FoundJob } from '../../src/board/findJobs.js';
import { entryMember, FIND_BOUNDS, findEntries, findKey, indexQuestions } from '../../src/shared/findIndex.js';
import { runAutopoll } from '../support/cli.js';
import { testPrefix, testRedis } from '../support/pipeline.js';
import { SpawnedPipeline } from '../support/spawnedPipeline.js';
import { waitFor } from '../support/wait.js';

const TOKEN = 'find-token-0123456789abcdef';
const DAY = 86_400_000;

describe('the find index in Redis', () => {
  let redis: Redis;
  const bounds = { ...FIND_BOUNDS, questions: 5 };
  const job = (n: number, conversationId = 'c1', queryId = `q${n}`) => ({ id: `m-x-${n}`, data: { queryId, messageId: n, conversationId } });

  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(async () => {
    await redis?.quit();
  });

  it('its four keys expire with the failed jobs (30 days) and hold ids only: no question, no token', async () => {
    const prefix = testPrefix();
    await indexQuestions(redis, prefix, [job(1)], Date.now(), bounds);
    const keys = await redis.keys(`${prefix}:autopoll:find:*`);
    expect(keys.sort()).toEqual((['conversation', 'message', 'query', 'recent'] as const).map((k) => findKey(prefix, k)));
    for (const key of keys) {
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(FIND_BOUNDS.retentionMs / 1000 - 60);
      expect(ttl).toBeLessThanOrEqual(FIND_BOUNDS.retentionMs / 1000);
      expect(await redis.zrange(key, '0', '-1')).toEqual([expect.stringMatching(/^\[("q1",|1,|"c1",)?\d{13},"m-x-1","q1",1,"c1"\]$/)]);
    }
  });

  it('past the bound in number the oldest questions leave every set; indexed again, a job is listed once', async () => {
    const prefix = testPrefix();
    const t0 = Date.now();
    for (let n = 1; n <= 4; n++) await indexQuestions(redis, prefix, [job(n, 'c1', 'reused')], t0 + n, bounds);
    expect((await findEntries(redis, prefix, 'c1')).map((e) => e.jobId)).toEqual(['m-x-4', 'm-x-3', 'm-x-2', 'm-x-1']);
    // Indexed again (the reconciler enqueuing it again): listed once, as of now.
    await indexQuestions(redis, prefix, [job(2, 'c1', 'reused')], t0 + 5, bounds);
    expect((await findEntries(redis, prefix, 'reused')).map((e) => e.jobId)).toEqual(['m-x-2', 'm-x-4', 'm-x-3', 'm-x-1']);

    await indexQuestions(redis, prefix, [6, 7].map((n) => job(n, `c${n}`)), t0 + 6, bounds);
    for (const kind of ['recent', 'query', 'message', 'conversation'] as const) expect(await redis.zcard(findKey(prefix, kind))).toBe(5);
    // m-x-1 and m-x-2's first entry were the oldest.
    expect(await findEntries(redis, prefix, '1')).toEqual([]);
    expect((await findEntries(redis, prefix, 'c1')).map((e) => e.jobId)).toEqual(['m-x-2', 'm-x-4', 'm-x-3']);
  });

  it('a search lists the newest 200 of a conversation, the newest 20 of a reused query id', async () => {
    const prefix = testPrefix();
    await indexQuestions(redis, prefix, Array.from({ length: 250 }, (_, i) => job(i + 1, 'busy', 'again')), Date.now());
    expect(await findEntries(redis, prefix, 'busy')).toHaveLength(FIND_BOUNDS.perConversation);
    expect(await findEntries(redis, prefix, 'again')).toHaveLength(FIND_BOUNDS.perId);
    expect(await findEntries(redis, prefix, '250')).toHaveLength(1);
  });

  it('a question rejected at take is indexed with the jobs of its take, found by each id it has, listed once, evicted like a job', async () => {
    const prefix = testPrefix();
    const t0 = Date.now();
    const rejected = (n: number, queryId: string | null) => ({ id: null, data: { queryId, messageId: n, conversationId: 'c1' } });
    await indexQuestions(redis, prefix, [job(1), rejected(2, 'q2'), rejected(3, null)], t0, bounds);
    // The one without a query id has no `query` member.
    expect(await redis.zcard(findKey(prefix, 'query'))).toBe(2);
    expect(await redis.zcard(findKey(prefix, 'recent'))).toBe(3);
    // One time for the whole take: their order among themselves is not said.
    expect((await findEntries(redis, prefix, 'c1')).sort((a, b) => a.messageId - b.messageId)).toEqual([
      { at: t0, jobId: 'm-x-1', queryId: 'q1', messageId: 1, conversationId: 'c1' },
      { at: t0, jobId: null, queryId: 'q2', messageId: 2, conversationId: 'c1' },
      { at: t0, jobId: null, queryId: null, messageId: 3, conversationId: 'c1' },
    ]);
    expect(await findEntries(redis, prefix, 'q2')).toEqual([{ at: t0, jobId: null, queryId: 'q2', messageId: 2, conversationId: 'c1' }]);
    expect(await findEntries(redis, prefix, '3')).toEqual([{ at: t0, jobId: null, queryId: null, messageId: 3, conversationId: 'c1' }]);
    // Past the retention, they leave every set with the job.
    await indexQuestions(redis, prefix, [job(4)], t0 + 31 * DAY, bounds);
    for (const kind of ['recent', 'query', 'message', 'conversation'] as const) expect(await redis.zcard(findKey(prefix, kind))).toBe(1);
  });

  it('an entry older than the retention leaves the index at the next write', async () => {
    const prefix = testPrefix();
    const t0 = Date.now();
    await indexQuestions(redis, prefix, [job(1)], t0, bounds);
    await indexQuestions(redis, prefix, [job(2)], t0 + 31 * DAY, bounds);
    expect((await findEntries(redis, prefix, 'c1')).map((e) => e.jobId)).toEqual(['m-x-2']);
    expect(await findEntries(redis, prefix, '1')).toEqual([]);
    for (const kind of ['recent', 'query', 'message', 'conversation'] as const) expect(await redis.zcard(findKey(prefix, kind))).toBe(1);
  });
});

async function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { headers, redirect: 'manual' });
}

describe('GET /find on a board that reaches only Redis', () => {
  const pipeline = new SpawnedPipeline(['--redis', inject('redisUrl')]);
  const auth = { authorization: `Bearer ${TOKEN}` };
  let boards: string[];
  const ids: Record<string, number> = {};
  const ledgerState = (name: string) => pipeline.bridge.ledger(ids[name]!)?.state;

  const find = async (base: string, q: string): Promise<FoundJob[]> => {
    const res = await get(`${base}/find?q=${encodeURIComponent(q)}`, { ...auth, accept: 'application/json' });
    expect(res.status).toBe(200);
    return (await res.json()) as FoundJob[];
  };

  beforeAll(async () => {
    await pipeline.start({ consumer: ['--attempts', '1', '--backoff-ms', '0'] });
    const { conv, bridge } = pipeline;
    ids.ok = bridge.ask(conv.id, 'q_find_ok', 'plain question');
    ids.ok2 = bridge.ask(conv.id, 'q_find_ok2', 'another question');
    ids.replayed = bridge.ask(conv.id, 'q_find_replayed', 'fails until replayed #stub-fail-unless-replay');
    ids.rejected = bridge.send(conv.id, '{"type": "query", "query_id": "q_find_rejected"}');
    await waitFor('every question settled', () => ledgerState('ok') === 'answered' && ledgerState('ok2') === 'answered' && ledgerState('replayed') === 'failed' && ledgerState('rejected') === 'rejected');
    // As if the index had dropped it meanwhile (20,000 newer questions): the replay indexes it again.
    const redis = testRedis();
    for (const e of await findEntries(redis, pipeline.prefix, 'q_find_replayed')) {
      for (const kind of ['query', 'message', 'conversation'] as const) await redis.zrem(findKey(pipeline.prefix, kind), entryMember(e, kind));
      await redis.zrem(findKey(pipeline.prefix, 'recent'), entryMember(e));
    }
    expect(await findEntries(redis, pipeline.prefix, 'q_find_replayed')).toEqual([]);
    await redis.quit();
    const replay = await runAutopoll(['replay', ...pipeline.common, '--bridge-db', pipeline.bridge.path, '--query-id', 'q_find_replayed']);
    expect(replay.code).toBe(0);
    await waitFor('the replay answered', () => ledgerState('replayed') === 'answered');
    // No bridge file: a host that reaches only Redis. One board writable, one read-only.
    const board = pipeline.spawn(['board', ...pipeline.common, '--port', '0'], { AUTOPOLL_BOARD_TOKEN: TOKEN });
    const readOnly = pipeline.spawn(['board', ...pipeline.common, '--port', '0', '--read-only'], { AUTOPOLL_BOARD_TOKEN: TOKEN });
    boards = await Promise.all([board.operatorUrl(), readOnly.operatorUrl()]);
  }, 60_000);

  afterAll(async () => {
    await pipeline.stop();
  });

  it('by query id: the question job and its answer job, each with its state and Bull Board page; the same on a read-only board', async () => {
    for (const base of boards) {
      const jobs = await find(base, 'q_find_ok');
      const qjob = String(pipeline.bridge.ledger(ids.ok!)?.job_id);
      const common = { queryId: 'q_find_ok', messageId: ids.ok, conversationId: pipeline.conv.id, state: 'completed' };
      expect(jobs).toEqual([
        { ...common, queue: 'questions', jobId: qjob, url: `/queue/questions/${qjob}` },
        { ...common, queue: 'answers', jobId: `a-${qjob}`, url: `/queue/answers/a-${qjob}` },
      ]);
      for (const j of jobs) {
        expect((await get(`${base}${j.url}`, auth)).status).toBe(200);
        // The page's data: Bull Board's API knows the job (404 for one it does not).
        expect((await get(`${base}/api/queues/${j.queue}/${j.jobId}`, auth)).status).toBe(200);
      }
      expect((await get(`${base}/api/queues/answers/e-${qjob}`, auth)).status).toBe(404);
    }
  });

  it('by message id the same question; a replayed one (indexed again by the replay) shows its round-0 error and the replay round\'s answer', async () => {
    const [base] = boards;
    expect((await find(base!, String(ids.ok))).map((j) => j.queryId)).toEqual(['q_find_ok', 'q_find_ok']);
    const qjob = String(pipeline.bridge.ledger(ids.replayed!)?.job_id);
    const jobs = await find(base!, String(ids.replayed));
    expect(jobs.map((j) => [j.queue, j.jobId, j.state])).toEqual([
      ['questions', qjob, 'completed'],
      ['answers', `e-${qjob}`, 'completed'],
      ['answers', `a-${qjob}-r1`, 'completed'],
    ]);
  });

  it('by conversation id every question of it, newest first; a question rejected at take is listed with no job, an unknown text nothing', async () => {
    const [base] = boards;
    const jobs = await find(base!, pipeline.conv.id);
    expect(new Set(jobs.map((j) => j.queryId))).toEqual(new Set(['q_find_ok', 'q_find_ok2', 'q_find_replayed', 'q_find_rejected']));
    expect(jobs.filter((j) => j.queue === 'questions')).toHaveLength(3);
    const rejected = { queryId: 'q_find_rejected', messageId: ids.rejected, conversationId: pipeline.conv.id, queue: null, jobId: null, state: 'rejected', url: null };
    expect(jobs).toContainEqual(rejected);
    for (const q of ['q_find_rejected', String(ids.rejected)]) expect(await find(base!, q)).toEqual([rejected]);
    const html = await (await get(`${base}/find?q=q_find_rejected`, { ...auth, accept: 'text/html' })).text();
    expect(html).toContain(`<td>q_find_rejected</td><td>${ids.rejected}</td><td>${pipeline.conv.id}</td><td></td><td></td><td>rejected</td>`);
    expect(await find(base!, 'no-such-id')).toEqual([]);
  });

  it('a job retention removed is listed as gone', async () => {
    const [base] = boards;
    const qjob = String(pipeline.bridge.ledger(ids.ok2!)?.job_id);
    const del = await fetch(`${base}/api/queues/questions/${qjob}/clean`, { method: 'PUT', headers: auth });
    expect(del.status).toBe(204);
    const jobs = await find(base!, 'q_find_ok2');
    expect(jobs.map((j) => [j.queue, j.jobId, j.state])).toEqual([['questions', qjob, 'gone'], ['answers', `a-${qjob}`, 'completed']]);
  });

  it('a browser gets the page: the box, each job linked, everything escaped; Bull Board\'s menu links to it', async () => {
    const [base] = boards;
    const html = await (await get(`${base}/find?q=q_find_ok`, { ...auth, accept: 'text/html,application/xhtml+xml,*/*;q=0.8' })).text();
    const qjob = String(pipeline.bridge.ledger(ids.ok!)?.job_id);
    expect(html).toContain(`<a href="/queue/questions/${qjob}">${qjob}</a></td><td>completed</td>`);
    expect(html).toContain('<input name="q" value="q_find_ok"');
    const blank = await get(`${base}/find`, { ...auth, accept: 'text/html' });
    expect(blank.status).toBe(200);
    expect(await blank.text()).toContain('<form method="get" action="/find">');
    const evil = await (await get(`${base}/find?q=${encodeURIComponent('<script>x</script>')}`, { ...auth, accept: 'text/html' })).text();
    expect(evil).not.toContain('<script>');
    const menu = await (await get(`${base}/`, { ...auth, accept: 'text/html' })).text();
    expect(menu).toContain('"url":"/find"');
  });

  it('the board token rules: none gets 401, a browser the login form; a bad q 400 with what is wrong', async () => {
    const [base] = boards;
    const anonymous = await get(`${base}/find?q=q_find_ok`, { accept: 'application/json' });
    expect(anonymous.status).toBe(401);
    expect((await get(`${base}/find?q=q_find_ok`, { authorization: 'Bearer wrong-token-0123456789', accept: 'application/json' })).status).toBe(401);
    const browser = await get(`${base}/find?q=q_find_ok`, { accept: 'text/html' });
    expect(browser.status).toBe(302);
    expect(browser.headers.get('location')).toBe('/login?next=%2Ffind%3Fq%3Dq_find_ok');
    for (const [query, error] of [['', /^q is required/], ['?q=', /^q is empty/], [`?q=${'x'.repeat(201)}`, /^q is longer than 200 characters/], ['?q=a&q=b', /^q must be given once/]] as const) {
      const res = await get(`${base}/find${query}`, { ...auth, accept: 'application/json' });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(error);
    }
  });
});
