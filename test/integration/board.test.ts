import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { request, type IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { BridgeFixture } from '../support/bridge.js';
import { AutopollProcess } from '../support/cli.js';
import { claudeEnv } from '../support/claudeEnv.js';
import { echoResponder, FakeAnthropic } from '../support/fakeAnthropic.js';
import { testPrefix } from '../support/pipeline.js';
import { RedisServer } from '../support/redisServer.js';
import { waitFor } from '../support/wait.js';

/**
 * The operator server of the built CLI: Bull Board behind the board token, its read-only mode,
 * the loopback-only rule, /healthz, /readyz and /metrics of `board`, `up`, `producer`, `consumer`,
 * and the consumers' sessions on /consumers.
 */

const TOKEN = 'board-token-0123456789abcdef';

/** The child's environment: nothing of the operator server's settings leaks in from ours. */
function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    AUTOPOLL_BOARD_TOKEN: undefined, AUTOPOLL_PORT: undefined, AUTOPOLL_HOST: undefined, AUTOPOLL_READ_ONLY: undefined,
    AUTOPOLL_SESSION_TTL: undefined, AUTOPOLL_TRUST_PROXY: undefined, REDIS_URL: undefined, ...extra,
  };
}

const procs: AutopollProcess[] = [];

function spawnCli(args: string[], extraEnv: Record<string, string | undefined> = {}): AutopollProcess {
  const p = new AutopollProcess(args, env(extraEnv));
  procs.push(p);
  return p;
}

async function http(url: string, init: RequestInit & { bearer?: string; cookie?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.bearer !== undefined) headers.set('authorization', `Bearer ${init.bearer}`);
  if (init.cookie !== undefined) headers.set('cookie', init.cookie);
  return fetch(url, { ...init, headers, redirect: 'manual' });
}

/** Prometheus text as `name{labels}` -> value. */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

async function scrape(base: string, bearer?: string): Promise<Map<string, number>> {
  const res = await http(`${base}/metrics`, bearer === undefined ? {} : { bearer });
  expect(res.status).toBe(200);
  return parseMetrics(await res.text());
}

async function killAll(): Promise<void> {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
}

// Each describe kills what it spawned; this one catches a describe that failed to.
afterAll(killAll);

describe('board token', () => {
  let base: string;
  const prefix = testPrefix();

  beforeAll(async () => {
    const board = spawnCli(['board', '--redis', inject('redisUrl'), '--prefix', prefix, '--port', '0'], { AUTOPOLL_BOARD_TOKEN: TOKEN });
    base = await board.operatorUrl();
  });

  afterAll(killAll);

  it('answers an unauthenticated API call with 401 and how to authenticate; a right bearer lists both queues; a wrong one is refused', async () => {
    const anonymous = await http(`${base}/api/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    const body = (await anonymous.json()) as { error: string };
    expect(body.error).toContain('Authorization: Bearer <AUTOPOLL_BOARD_TOKEN>');
    expect(body.error).toContain('/login');

    const ok = await http(`${base}/api/queues`, { bearer: TOKEN });
    expect(ok.status).toBe(200);
    const { queues } = (await ok.json()) as { queues: Array<{ name: string; readOnlyMode: boolean }> };
    expect(queues.map((q) => q.name).sort()).toEqual(['answers', 'questions']);

    expect((await http(`${base}/api/queues`, { bearer: `${TOKEN}x` })).status).toBe(401);
    expect((await http(`${base}/api/queues`, { bearer: TOKEN.slice(0, -1) })).status).toBe(401);
    // The cookie's value is not the token, and the token is not a cookie.
    expect((await http(`${base}/api/queues`, { cookie: `autopoll_board=${TOKEN}` })).status).toBe(401);
    // A malformed cookie is just not a login (it once made the server fail with a 500).
    expect((await http(`${base}/api/queues`, { cookie: 'autopoll_board=%E0%A4%A' })).status).toBe(401);
  });

  it('sends a browser to the login form, which sets an HttpOnly SameSite=Strict cookie without the token', async () => {
    const page = await http(`${base}/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/login?next=%2F');
    const deep = await http(`${base}/queue/questions`, { headers: { accept: 'text/html' } });
    expect(deep.status).toBe(302);
    expect(deep.headers.get('location')).toBe('/login?next=%2Fqueue%2Fquestions');

    const form = await http(`${base}/login?next=%2Fqueue%2Fquestions`);
    expect(form.status).toBe(200);
    const html = await form.text();
    expect(html).toContain('<form method="post" action="/login">');
    expect(html).toContain('name="next" value="/queue/questions"');

    const login = await http(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TOKEN, next: '/queue/questions' }).toString(),
    });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/queue/questions');
    const cookies = login.headers.getSetCookie().filter((c) => c.startsWith('autopoll_board='));
    expect(cookies).toHaveLength(1);
    const cookie = cookies[0]!;
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Strict/i);
    // 12 hours unless --session-ttl says otherwise; no Secure over plain HTTP.
    expect(cookie).toMatch(/;\s*Max-Age=43200;/i);
    expect(cookie).not.toMatch(/;\s*Secure/i);
    expect(cookie).not.toContain(TOKEN);
    const value = cookie.split(';')[0]!;
    expect(value).toMatch(/^autopoll_board=\d+\.[0-9a-f]{64}$/);

    expect((await http(`${base}/api/queues`, { cookie: value })).status).toBe(200);
    expect((await http(`${base}/api/queues`, { cookie: `other=1; ${value}; more=2` })).status).toBe(200);
    expect((await http(`${base}/`, { cookie: value, headers: { accept: 'text/html' } })).status).toBe(200);
  });

  it('refuses a wrong token at /login with 401 and the form again', async () => {
    const login = await http(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'not-the-board-token-at-all', next: '/' }).toString(),
    });
    expect(login.status).toBe(401);
    expect(login.headers.getSetCookie()).toEqual([]);
    const html = await login.text();
    expect(html).toContain('<form method="post" action="/login">');
    expect(html).toContain('That token is not the board token');

    const empty = await http(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'next=%2F' });
    expect(empty.status).toBe(401);
    expect(await empty.text()).toContain('Enter the board token');
  });

  it('never redirects a login off the site', async () => {
    for (const next of ['//evil.example', 'https://evil.example/', '/\\evil.example', 'evil.example', '/ok\n//evil.example']) {
      const login = await http(`${base}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: TOKEN, next }).toString(),
      });
      expect(login.status, next).toBe(303);
      expect(login.headers.get('location'), next).toBe('/');
    }
    // The form's hidden field does not carry an off-site target either.
    expect(await (await http(`${base}/login?next=${encodeURIComponent('//evil.example')}`)).text()).toContain('name="next" value="/"');
  });

  it('on loopback, /healthz, /readyz and /metrics need no token', async () => {
    expect((await http(`${base}/healthz`)).status).toBe(200);
    const ready = await http(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, checks: [{ name: 'redis', ok: true, detail: 'PING answered' }] });
    const metrics = await scrape(base);
    expect(metrics.get('autopoll_queue_jobs{queue="questions",state="waiting"}')).toBe(0);
    // The process's own metrics, under autopoll's prefix.
    expect([...metrics.keys()].some((k) => /^autopoll_process_resident_memory_bytes$/.test(k))).toBe(true);
  });
});

function login(base: string, token: string, headers: Record<string, string> = {}): Promise<Response> {
  return http(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ token, next: '/' }).toString(),
  });
}

/** The session cookie a login set, as `name=value` for a Cookie header, and its attributes. */
function sessionOf(res: Response): { cookie: string; attributes: string } {
  const set = res.headers.getSetCookie().find((c) => c.startsWith('autopoll_board='));
  expect(set, `status ${res.status}`).toBeDefined();
  const at = set!.indexOf(';');
  return { cookie: set!.slice(0, at), attributes: set!.slice(at) };
}

function board(extraArgs: string[] = [], extraEnv: Record<string, string> = { AUTOPOLL_BOARD_TOKEN: TOKEN }): AutopollProcess {
  return spawnCli(['board', '--redis', inject('redisUrl'), '--prefix', testPrefix(), '--port', '0', ...extraArgs], extraEnv);
}

describe('login sessions: they expire, a logout ends them all, a restart too', () => {
  afterEach(killAll);

  it('--session-ttl 2: the cookie says Max-Age=2 and the server refuses it after 2 s', async () => {
    const base = await board(['--session-ttl', '2']).operatorUrl();
    const { cookie, attributes } = sessionOf(await login(base, TOKEN));
    expect(attributes).toMatch(/;\s*Max-Age=2;/i);
    expect((await http(`${base}/api/queues`, { cookie })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2_500));
    // A browser would have dropped it; one that kept it (or a thief) is refused all the same.
    expect((await http(`${base}/api/queues`, { cookie })).status).toBe(401);
    const page = await http(`${base}/`, { cookie, headers: { accept: 'text/html' } });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/login?next=%2F');
  });

  it('a logout ends every session issued before it, in every browser; an anonymous logout ends none', async () => {
    const base = await board().operatorUrl();
    const first = sessionOf(await login(base, TOKEN)).cookie;
    const second = sessionOf(await login(base, TOKEN)).cookie;
    for (const cookie of [first, second]) expect((await http(`${base}/api/queues`, { cookie })).status).toBe(200);

    // Nobody logged in cannot log the operators out.
    const anonymous = await http(`${base}/logout`, { method: 'POST' });
    expect(anonymous.status).toBe(303);
    for (const cookie of [first, second]) expect((await http(`${base}/api/queues`, { cookie })).status).toBe(200);

    const logout = await http(`${base}/logout`, { method: 'POST', cookie: first });
    expect(logout.status).toBe(303);
    expect(logout.headers.get('location')).toBe('/login');
    expect(logout.headers.getSetCookie().some((c) => /^autopoll_board=;/.test(c))).toBe(true);
    // The old cookie, replayed (a copy the browser did not drop, a stolen one), is refused, and so is the other browser's.
    for (const cookie of [first, second]) expect((await http(`${base}/api/queues`, { cookie })).status).toBe(401);
    // A new login works, and the token as a bearer never stopped working.
    expect((await http(`${base}/api/queues`, { cookie: sessionOf(await login(base, TOKEN)).cookie })).status).toBe(200);
    expect((await http(`${base}/api/queues`, { bearer: TOKEN })).status).toBe(200);
  });

  it('a cookie from before a restart needs a new login', async () => {
    const before = board();
    const { cookie } = sessionOf(await login(await before.operatorUrl(), TOKEN));
    await before.kill();
    const base = await board().operatorUrl();
    expect((await http(`${base}/api/queues`, { cookie })).status).toBe(401);
  });
});

describe('login throttle', () => {
  afterEach(killAll);

  it('after 10 wrong Bearer tokens from one address, 5 of them still waiting their answer, the right Bearer from it gets 200 at once', async () => {
    const base = await board().operatorUrl();
    for (let i = 0; i < 5; i++) expect((await http(`${base}/api/queues`, { bearer: `wrong-token-${i}-0123456789` })).status, `attempt ${i + 1}`).toBe(401);
    // The guesser does not wait for its answers (they come one per pause); they are cut off when the board is killed.
    for (let i = 5; i < 10; i++) http(`${base}/api/queues`, { bearer: `wrong-token-${i}-0123456789` }).catch(() => undefined);
    await sleep(300);
    const started = Date.now();
    expect((await http(`${base}/api/queues`, { bearer: TOKEN })).status).toBe(200);
    expect(Date.now() - started, 'the right token waited for nobody').toBeLessThan(1_000);
    expect((await login(base, TOKEN)).status).toBe(303);
  });

  it('past 10 wrong answers waiting for one address, its wrong tokens get 429 with Retry-After at once, Bearer and form; the right one and the probes still get in', async () => {
    const base = await board().operatorUrl();
    for (let i = 0; i < 5; i++) expect((await http(`${base}/api/queues`, { bearer: `wrong-token-${i}-0123456789` })).status, `attempt ${i + 1}`).toBe(401);
    const answered: number[] = [];
    for (let i = 0; i < 12; i++) http(`${base}/api/queues`, { bearer: `wrong-token-${i}-0123456789` }).then((r) => answered.push(r.status), () => undefined);
    await waitFor('the 2 past the cap refused', () => answered.length === 2);
    expect(answered).toEqual([429, 429]);
    const refused = await login(base, 'wrong-token-0123456789');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(refused.headers.getSetCookie()).toEqual([]);
    expect(await refused.text()).toContain('Too many wrong tokens');
    expect((await login(base, TOKEN)).status).toBe(303);
    // The probes stay open on loopback: the throttle stops guessing, not the orchestrator.
    expect((await http(`${base}/healthz`)).status).toBe(200);
  });

  it('behind --trust-proxy, 30 wrong tokens from many forwarded addresses lock nobody out: the right token, /readyz and /healthz with it, still 200', async () => {
    const server = spawnCli(['board', '--redis', inject('redisUrl'), '--prefix', testPrefix(), '--host', '0.0.0.0', '--port', '0', '--trust-proxy', '1'], { AUTOPOLL_BOARD_TOKEN: TOKEN });
    const base = await server.operatorUrl();
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    for (let i = 0; i < 30; i++) expect((await login(base, 'wrong-token-0123456789', from(`198.51.100.${i}`))).status, `attempt ${i + 1}`).toBe(401);
    for (const probe of ['/readyz', '/healthz']) {
      expect((await http(`${base}${probe}`, { bearer: TOKEN, headers: from('203.0.113.1') })).status, probe).toBe(200);
      // The Compose healthcheck: the container's own address, no X-Forwarded-For.
      expect((await http(`${base}${probe}`, { bearer: TOKEN })).status, probe).toBe(200);
    }
    expect((await login(base, TOKEN, from('203.0.113.2'))).status).toBe(303);
    expect((await http(`${base}/api/queues`, { bearer: TOKEN, headers: from('203.0.113.3') })).status).toBe(200);
  });
});

describe('--trust-proxy', () => {
  afterEach(killAll);

  it('with it, a login forwarded as HTTPS sets a Secure cookie; without it, X-Forwarded-Proto is not believed', async () => {
    const https = { 'x-forwarded-proto': 'https' };
    const trusting = await board(['--trust-proxy'], { AUTOPOLL_BOARD_TOKEN: TOKEN }).operatorUrl();
    expect(sessionOf(await login(trusting, TOKEN, https)).attributes).toMatch(/;\s*Secure/i);
    const plain = sessionOf(await login(trusting, TOKEN)).attributes;
    expect(plain).not.toMatch(/;\s*Secure/i);
    expect(plain).toMatch(/;\s*HttpOnly/i);
    expect(plain).toMatch(/;\s*SameSite=Strict/i);

    const fromEnv = await board([], { AUTOPOLL_BOARD_TOKEN: TOKEN, AUTOPOLL_TRUST_PROXY: 'loopback' }).operatorUrl();
    expect(sessionOf(await login(fromEnv, TOKEN, https)).attributes).toMatch(/;\s*Secure/i);

    const notTrusting = await board().operatorUrl();
    const { attributes } = sessionOf(await login(notTrusting, TOKEN, https));
    expect(attributes).not.toMatch(/;\s*Secure/i);
    expect(attributes).toMatch(/;\s*HttpOnly/i);
  });

  it('refuses a value that is not a trust proxy setting, with exit code 2 and what it takes', async () => {
    const bad = board(['--trust-proxy', 'my-proxy.example']);
    expect(await bad.exited).toEqual({ code: 2, signal: null });
    expect(bad.stderr).toContain('--trust-proxy (env AUTOPOLL_TRUST_PROXY): "my-proxy.example" is not a proxy');
    expect(bad.stderr).toContain('a hop count (1: one proxy in front)');
  });
});

describe('cross-site writes', () => {
  const prefix = testPrefix();
  let connection: Redis;
  let questions: Queue;

  beforeAll(() => {
    connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    questions = new Queue('questions', { connection, prefix });
  });

  afterAll(async () => {
    await killAll();
    await questions?.close();
    connection?.disconnect();
  });

  const add = (base: string, headers: Record<string, string>) =>
    http(`${base}/api/queues/questions/add`, {
      method: 'POST',
      // What a plain HTML form on another site can send to 127.0.0.1.
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: 'name=forged&data=x',
    });

  it('a tokenless board refuses a write a page of another origin makes the browser send (its Host is 127.0.0.1 all the same)', async () => {
    const base = await spawnCli(['board', '--redis', inject('redisUrl'), '--prefix', prefix, '--port', '0']).operatorUrl();
    const port = new URL(base).port;
    const forged: Array<Record<string, string>> = [
      { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      // Another port of 127.0.0.1 is the same site (a SameSite cookie would ride along), not the same origin.
      { 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:8080' },
      // A browser without Sec-Fetch-Site still sends Origin on a cross-origin write.
      { origin: 'https://evil.example' },
      { origin: 'null' },
    ];
    for (const headers of forged) {
      const res = await add(base, headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(await res.text()).toContain('a page of another site may not change anything here');
    }
    const pause = await http(`${base}/api/queues/questions/pause`, { method: 'PUT', headers: { 'sec-fetch-site': 'cross-site' } });
    expect(pause.status).toBe(403);
    expect(await questions.isPaused()).toBe(false);
    expect(await questions.count()).toBe(0);

    // The board's own page (same origin) and a script (no Origin) still write: the route is there.
    expect((await add(base, { 'sec-fetch-site': 'same-origin', origin: `http://127.0.0.1:${port}` })).status).toBe(200);
    expect((await add(base, {})).status).toBe(200);
    expect(await questions.count()).toBe(2);
    // Reads are not writes: a cross-site GET is still answered (the page cannot read it: no CORS).
    expect((await http(`${base}/api/queues`, { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(200);
  });

  it('with a token, a forged login or logout is refused too: no login CSRF, no logging the operator out', async () => {
    const base = await board().operatorUrl();
    const { cookie } = sessionOf(await login(base, TOKEN));
    const cross = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' };
    expect((await http(`${base}/logout`, { method: 'POST', cookie, headers: cross })).status).toBe(403);
    expect((await http(`${base}/api/queues`, { cookie })).status).toBe(200);
    const forgedLogin = await login(base, TOKEN, cross);
    expect(forgedLogin.status).toBe(403);
    expect(forgedLogin.headers.getSetCookie()).toEqual([]);
    expect((await add(base, { ...cross, cookie })).status).toBe(403);
    expect((await add(base, { cookie })).status).toBe(200);
  });
});

describe('read-only mode', () => {
  const prefix = testPrefix();
  let connection: Redis;
  let questions: Queue;
  let readOnly: string;
  let writable: string;
  let failedJobId: string;

  beforeAll(async () => {
    connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    questions = new Queue('questions', { connection, prefix });
    // One failed question job, for the retry.
    const job = await questions.add('question', { messageId: 1, conversationId: 'conv_ro', queryId: 'q_ro', question: 'fails' }, { jobId: 'm-1' });
    failedJobId = job.id!;
    const workerConnection = connection.duplicate();
    const worker = new Worker('questions', async () => {
      throw new Error('failed on purpose');
    }, { connection: workerConnection, prefix });
    try {
      await waitFor('the job failed', async () => (await questions.getJobState(failedJobId)) === 'failed');
    } finally {
      await worker.close();
      workerConnection.disconnect();
    }
    const [ro, rw] = [
      spawnCli(['board', '--redis', inject('redisUrl'), '--prefix', prefix, '--port', '0', '--read-only']),
      spawnCli(['board', '--redis', inject('redisUrl'), '--prefix', prefix, '--port', '0']),
    ];
    [readOnly, writable] = await Promise.all([ro.operatorUrl(), rw.operatorUrl()]);
  });

  afterAll(async () => {
    await killAll();
    await questions?.close();
    connection?.disconnect();
  });

  it('refuses writes with 405 and still serves reads', async () => {
    const pause = await http(`${readOnly}/api/queues/questions/pause`, { method: 'PUT' });
    expect(pause.status).toBe(405);
    expect(await pause.json()).toEqual({ error: { key: 'ERRORS.QUEUE_READ_ONLY' } });
    expect((await http(`${readOnly}/api/queues/answers/pause`, { method: 'PUT' })).status).toBe(405);
    expect((await http(`${readOnly}/api/queues/questions/${failedJobId}/retry`, { method: 'PUT' })).status).toBe(405);
    expect((await http(`${readOnly}/api/queues/questions/retry/failed`, { method: 'PUT' })).status).toBe(405);
    expect((await http(`${readOnly}/api/queues/questions/${failedJobId}/clean`, { method: 'PUT' })).status).toBe(405);
    expect((await http(`${readOnly}/api/queues/questions/empty`, { method: 'PUT' })).status).toBe(405);
    // "Pause all" skips read-only queues.
    expect((await http(`${readOnly}/api/queues/pause`, { method: 'PUT' })).status).toBe(200);
    expect(await questions.isPaused()).toBe(false);
    expect(await questions.getJobState(failedJobId)).toBe('failed');

    const list = await http(`${readOnly}/api/queues?activeQueue=questions&status=failed`);
    expect(list.status).toBe(200);
    const { queues } = (await list.json()) as { queues: Array<{ name: string; readOnlyMode: boolean; jobs: Array<{ id: string; data: unknown }> }> };
    expect(queues.map((q) => [q.name, q.readOnlyMode]).sort()).toEqual([['answers', true], ['questions', true]]);
    expect(queues.find((q) => q.name === 'questions')!.jobs.map((j) => j.id)).toEqual([failedJobId]);
    const job = await http(`${readOnly}/api/queues/questions/${failedJobId}`);
    expect(job.status).toBe(200);
  });

  it('without --read-only, the same writes work: pause, resume, retry', async () => {
    expect((await http(`${writable}/api/queues/questions/pause`, { method: 'PUT' })).status).toBe(200);
    expect(await questions.isPaused()).toBe(true);
    expect((await http(`${writable}/api/queues/questions/resume`, { method: 'PUT' })).status).toBe(200);
    expect(await questions.isPaused()).toBe(false);

    const retry = await http(`${writable}/api/queues/questions/${failedJobId}/retry`, { method: 'PUT' });
    expect(retry.status).toBeLessThan(300);
    expect(await questions.getJobState(failedJobId)).toBe('waiting');
  });
});

/** A request (a GET unless told) with the Host header as given (fetch sets its own), as a DNS-rebinding page's browser sends it. */
function getAs(url: string, host: string | undefined, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: { ...init.headers, ...(host === undefined ? {} : { host }) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    if (host === undefined) req.removeHeader('host');
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('without a token: loopback names only, and headers that keep pages out', () => {
  afterAll(() => killAll());

  it('answers 403 to any Host that is not a loopback name, probes included; serves 127.0.0.1, localhost and [::1] on any port', async () => {
    const base = await spawnCli(['board', '--redis', inject('redisUrl'), '--prefix', testPrefix(), '--port', '0']).operatorUrl();
    const port = new URL(base).port;
    for (const path of ['/', '/api/queues', '/healthz', '/readyz', '/metrics']) {
      for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, `localhost.evil.example`, '0.0.0.0', `[::ffff:7f00:1]:${port}`]) {
        expect((await getAs(`${base}${path}`, host)).status, `${path} as ${host}`).toBe(403);
      }
      // Node's server itself refuses an HTTP/1.1 request without Host, before any route.
      expect((await getAs(`${base}${path}`, undefined)).status, `${path} without Host`).toBe(400);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST', `[::1]:${port}`, '127.0.0.2']) {
      expect((await getAs(`${base}/healthz`, host)).status, host).toBe(200);
    }
  });

  it('every response forbids framing and sniffing and sends no Referer', async () => {
    const base = await spawnCli(['board', '--redis', inject('redisUrl'), '--prefix', testPrefix(), '--port', '0']).operatorUrl();
    for (const path of ['/', '/healthz', '/api/queues']) {
      const { headers } = await getAs(`${base}${path}`, new URL(base).host);
      expect(headers['content-security-policy'], path).toBe("frame-ancestors 'none'");
      expect(headers['x-frame-options'], path).toBe('DENY');
      expect(headers['x-content-type-options'], path).toBe('nosniff');
      expect(headers['referrer-policy'], path).toBe('no-referrer');
    }
  });
});

describe('with a token on loopback: loopback names only all the same', () => {
  afterAll(() => killAll());

  it('answers 403 to Host: evil.example for /metrics, /readyz and POST /login, the right token or not (DNS rebinding)', async () => {
    const base = await board().operatorUrl();
    const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: TOKEN, next: '/' }).toString() };
    for (const host of ['evil.example', `evil.example:${new URL(base).port}`]) {
      expect((await getAs(`${base}/metrics`, host)).status, host).toBe(403);
      expect((await getAs(`${base}/readyz`, host)).status, host).toBe(403);
      expect((await getAs(`${base}/readyz`, host, { headers: { authorization: `Bearer ${TOKEN}` } })).status, host).toBe(403);
      expect((await getAs(`${base}/login`, host, form)).status, host).toBe(403);
    }
    expect((await getAs(`${base}/readyz`, new URL(base).host)).status).toBe(200);
    expect((await getAs(`${base}/login`, new URL(base).host, form)).status).toBe(303);
  });
});

describe('bind policy', () => {
  afterEach(killAll);

  it('refuses a non-loopback bind without a token: exit code 2 and what to do', async () => {
    const board = spawnCli(['board', '--redis', inject('redisUrl'), '--prefix', testPrefix(), '--host', '0.0.0.0', '--port', '0']);
    expect(await board.exited).toEqual({ code: 2, signal: null });
    expect(board.stderr).toMatch(/refusing to serve the board, .* on 0\.0\.0\.0 without a token/);
    expect(board.stderr).toContain('Set AUTOPOLL_BOARD_TOKEN');
    expect(board.stderr).toContain('bind to 127.0.0.1 with --host');
    expect(board.hasLog(/^operator server listening$/)).toBe(false);
  });

  it('refuses a token shorter than 16 characters with exit code 2', async () => {
    const board = spawnCli(['board', '--redis', inject('redisUrl'), '--prefix', testPrefix(), '--port', '0'], { AUTOPOLL_BOARD_TOKEN: 'short' });
    expect(await board.exited).toEqual({ code: 2, signal: null });
    expect(board.stderr).toContain('--board-token (env AUTOPOLL_BOARD_TOKEN): use at least 16 characters');
    expect(board.stderr).not.toContain('short\n');
  });

  it('with a token it serves off loopback, and there the probes need the token too', async () => {
    const board = spawnCli(['board', '--redis', inject('redisUrl'), '--prefix', testPrefix(), '--host', '0.0.0.0', '--port', '0'], { AUTOPOLL_BOARD_TOKEN: TOKEN });
    const line = await board.waitForLog(/^operator server listening$/);
    expect(line).toMatchObject({ tokenRequired: true, board: true });
    expect(String(line.url)).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/$/);
    const base = await board.operatorUrl();
    for (const probe of ['/healthz', '/readyz', '/metrics']) {
      const anonymous = await http(`${base}${probe}`);
      expect(anonymous.status, probe).toBe(401);
      expect(await anonymous.text(), probe).not.toContain('autopoll_'); // no metrics leak in the refusal
      expect((await http(`${base}${probe}`, { bearer: 'wrong-token-0123456789' })).status, probe).toBe(401);
      expect((await http(`${base}${probe}`, { bearer: TOKEN })).status, probe).toBe(200);
    }
    expect((await http(`${base}/api/queues`)).status).toBe(401);
  });
});

describe('readiness follows Redis', () => {
  let redis: RedisServer | undefined;
  let bridge: BridgeFixture | undefined;

  afterEach(async () => {
    await killAll();
    await redis?.stop();
    bridge?.close();
  });

  it('`up`: /readyz goes 503 with the redis check failing when Redis stops, and 200 once it is back; /healthz stays 200', async () => {
    redis = await RedisServer.start();
    bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const up = spawnCli([
      'up', '--answerer', 'stub', '--redis', redis.url, '--prefix', testPrefix(), '--port', '0',
      '--bridge-db', bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`, '--poll-interval-ms', '50',
    ]);
    const base = await up.operatorUrl();
    const healthz: number[] = [];
    const readyz = async () => {
      // A refused connection counts as a failed /healthz too, not as a poll to retry.
      healthz.push(await http(`${base}/healthz`).then((r) => r.status, () => -1));
      const res = await http(`${base}/readyz`);
      return { status: res.status, body: (await res.json()) as { ready: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> } };
    };

    const ready = await waitFor('ready', async () => ((await readyz()).status === 200 ? readyz() : undefined));
    expect(ready.body.ready).toBe(true);
    expect(ready.body.checks.map((c) => c.name).sort()).toEqual(['answer-writer', 'bridge', 'question-worker', 'redis']);
    expect(ready.body.checks.every((c) => c.ok)).toBe(true);

    await redis.kill();
    const down = await waitFor('not ready', async () => {
      const r = await readyz();
      return r.status === 503 ? r : undefined;
    });
    expect(down.body.ready).toBe(false);
    const redisCheck = down.body.checks.find((c) => c.name === 'redis')!;
    expect(redisCheck.ok).toBe(false);
    expect(redisCheck.detail).toMatch(/^connection (connecting|reconnecting|connect|close|end)$/);
    expect(down.body.checks.find((c) => c.name === 'bridge')!.ok).toBe(true);
    expect(up.child.exitCode).toBeNull();
    // The consumers' page says so at once rather than wait for Redis.
    const consumers = await http(`${base}/consumers`, { signal: AbortSignal.timeout(5000) });
    expect(consumers.status).toBe(503);
    expect(((await consumers.json()) as { error: string }).error).toMatch(/^Redis is not connected \(\w+\)/);

    await redis.launch();
    const back = await waitFor('ready again', async () => {
      const r = await readyz();
      return r.status === 200 ? r : undefined;
    }, 30_000);
    expect(back.body.checks.every((c) => c.ok)).toBe(true);
    expect((await http(`${base}/consumers`)).status).toBe(200);
    expect(healthz.length).toBeGreaterThan(2);
    expect(healthz.every((s) => s === 200)).toBe(true);

    // And it works again: a question asked now is answered.
    bridge.ask(conv.id, 'q_after_outage', 'still there?');
    await waitFor('answer', () => bridge!.responses(conv.id).length === 1, 30_000);
  });
});

describe('/metrics follows real work', () => {
  let bridge: BridgeFixture | undefined;

  afterEach(async () => {
    await killAll();
    bridge?.close();
  });

  it('`up --answerer stub`: taken, answered, failed, rejected, latency and queue depths are exact; no token or id in them', async () => {
    bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const up = spawnCli([
      'up', '--answerer', 'stub', '--redis', inject('redisUrl'), '--prefix', testPrefix(), '--port', '0', '--attempts', '1',
      '--bridge-db', bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`, '--poll-interval-ms', '50',
    ]);
    const base = await up.operatorUrl();
    await up.waitForLog(/^consumer started$/);
    const before = await scrape(base);
    expect(before.get('autopoll_questions_taken_total')).toBe(0);
    expect(before.get('autopoll_questions_answered_total')).toBe(0);

    const okIds = Array.from({ length: 5 }, (_, i) => `qidmetricsok${i}`);
    const failIds = ['qidmetricsfail0', 'qidmetricsfail1'];
    for (const q of okIds) bridge.ask(conv.id, q, `question ${q}`);
    for (const q of failIds) bridge.ask(conv.id, q, `question ${q} #stub-fail`);
    const rejectedIds = [bridge.send(conv.id, 'this is not JSON at all'), bridge.send(conv.id, '{"type": "chat", "text": "no query"}')];

    await waitFor('7 responses', () => bridge!.responses(conv.id).length === 7, 30_000);
    await waitFor('2 rejected', () => rejectedIds.every((id) => bridge!.ledger(id)?.state === 'rejected'));

    const expected = {
      autopoll_questions_taken_total: 7,
      autopoll_questions_answered_total: 5,
      autopoll_questions_failed_total: 2,
      autopoll_questions_rejected_total: 2,
      autopoll_answers_dropped_total: 0,
      autopoll_answer_latency_seconds_count: 7,
      autopoll_answer_duration_seconds_count: 5,
      'autopoll_attempt_failures_total{kind="stub_failure",final="true"}': 2,
      'autopoll_queue_jobs{queue="questions",state="completed"}': 5,
      'autopoll_queue_jobs{queue="questions",state="failed"}': 2,
      'autopoll_queue_jobs{queue="questions",state="waiting"}': 0,
      'autopoll_queue_jobs{queue="questions",state="active"}': 0,
      'autopoll_queue_jobs{queue="questions",state="delayed"}': 0,
      'autopoll_queue_jobs{queue="answers",state="completed"}': 7,
      'autopoll_queue_jobs{queue="answers",state="failed"}': 0,
      'autopoll_queue_jobs{queue="answers",state="waiting"}': 0,
      'autopoll_queue_jobs{queue="answers",state="active"}': 0,
    };
    const pick = (m: Map<string, number>) => Object.fromEntries(Object.keys(expected).map((k) => [k, m.get(k)]));
    // The last question job may complete a moment after its answer reached the bridge.
    await waitFor('metrics settled', async () => JSON.stringify(pick(await scrape(base))) === JSON.stringify(expected), 10_000).catch(() => undefined);
    const res = await http(`${base}/metrics`);
    const text = await res.text();
    expect(pick(parseMetrics(text))).toEqual(expected);
    expect(bridge.responses(conv.id).map((r) => r.body.query_id).sort()).toEqual([...failIds, ...okIds].sort());
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);

    // Labels are bounded: no conversation, token or query id shows.
    for (const secret of [conv.id, conv.tokenA, conv.tokenB, ...okIds, ...failIds]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/qidmetrics|conv_/);
  });
});

describe('producer and consumer', () => {
  let bridge: BridgeFixture | undefined;
  let other: BridgeFixture | undefined;

  afterEach(async () => {
    await killAll();
    bridge?.close();
    other?.close();
  });

  it('serve /healthz, /readyz and /metrics only with --port, and never the board', async () => {
    bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const prefix = testPrefix();
    const producer = spawnCli(['producer', '--redis', inject('redisUrl'), '--prefix', prefix, '--port', '0', '--bridge-db', bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`, '--poll-interval-ms', '50']);
    const consumer = spawnCli(['consumer', '--answerer', 'stub', '--redis', inject('redisUrl'), '--prefix', prefix, '--port', '0']);
    // Without --port: no server at all (it would start, and log, before the service does).
    other = BridgeFixture.create();
    const quietPrefix = testPrefix();
    const quietProducer = spawnCli(['producer', '--redis', inject('redisUrl'), '--prefix', quietPrefix, '--bridge-db', other.path, '--role', 'quiet_shard']);
    const quietConsumer = spawnCli(['consumer', '--answerer', 'stub', '--redis', inject('redisUrl'), '--prefix', quietPrefix]);

    const [producerUrl, consumerUrl] = await Promise.all([producer.operatorUrl(), consumer.operatorUrl()]);
    expect(producer.lines.find((l) => l.msg === 'operator server listening')).toMatchObject({ board: false, tokenRequired: false });
    expect(consumer.lines.find((l) => l.msg === 'operator server listening')).toMatchObject({ board: false, tokenRequired: false });

    bridge.ask(conv.id, 'q_split', 'answered by separate processes?');
    await waitFor('answer', () => bridge!.responses(conv.id).length === 1, 30_000);

    for (const [base, checks] of [[producerUrl, ['answer-writer', 'bridge', 'redis']], [consumerUrl, ['question-worker', 'redis']]] as const) {
      expect((await http(`${base}/healthz`)).status).toBe(200);
      const ready = await waitFor('ready', async () => {
        const res = await http(`${base}/readyz`);
        return res.status === 200 ? ((await res.json()) as { checks: Array<{ name: string; ok: boolean }> }) : undefined;
      });
      expect(ready.checks.map((c) => c.name).sort()).toEqual([...checks]);
      expect((await http(`${base}/api/queues`)).status).toBe(404);
      expect((await http(`${base}/api/queues`, { method: 'PUT' })).status).toBe(404);
      expect((await http(`${base}/api/queues/questions/pause`, { method: 'PUT' })).status).toBe(404);
      expect((await http(`${base}/`, { headers: { accept: 'text/html' } })).status).toBe(404);
      expect((await http(`${base}/login`)).status).toBe(404);
    }
    // Each counts its own side of the work.
    await waitFor('producer metrics', async () => (await scrape(producerUrl)).get('autopoll_questions_answered_total') === 1);
    expect((await scrape(producerUrl)).get('autopoll_questions_taken_total')).toBe(1);
    expect((await scrape(consumerUrl)).get('autopoll_answer_duration_seconds_count')).toBe(1);
    expect((await scrape(consumerUrl)).get('autopoll_questions_taken_total')).toBe(0);

    await Promise.all([quietProducer.waitForLog(/^producer started$/), quietConsumer.waitForLog(/^consumer started$/)]);
    expect(quietProducer.hasLog(/operator server/)).toBe(false);
    expect(quietConsumer.hasLog(/operator server/)).toBe(false);
  });
});

describe('the consumers on the board', () => {
  let api: FakeAnthropic;
  beforeAll(async () => {
    api = await new FakeAnthropic().start();
    api.responder = echoResponder;
  });
  afterAll(async () => {
    await killAll();
    await api.stop();
  });

  it('a board that shares only Redis with a Claude consumer shows its live/max sessions (1/4) at /consumers, as JSON and as the page its menu links to; only with the token', async () => {
    const prefix = testPrefix();
    const consumer = spawnCli(['consumer', '--answerer', 'claude', '--redis', inject('redisUrl'), '--prefix', prefix, '--sessions', '4', '--min-sessions', '1'], claudeEnv(api.url));
    const board = spawnCli(['board', '--redis', inject('redisUrl'), '--prefix', prefix, '--port', '0'], { AUTOPOLL_BOARD_TOKEN: TOKEN });
    const [base] = await Promise.all([board.operatorUrl(), consumer.waitForLog(/^consumer started$/, 60_000)]);

    type Listed = { consumers: Array<Record<string, unknown>> };
    const listed = await waitFor('the consumer with its live session', async () => {
      const res = await http(`${base}/consumers`, { bearer: TOKEN });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Listed;
      return body.consumers[0]?.liveSessions === 1 ? body : undefined;
    }, 30_000);
    expect(listed.consumers).toHaveLength(1);
    expect(listed.consumers[0]).toMatchObject({ answerer: 'claude_code', state: 'running', liveSessions: 1, maxSessions: 4, sessions: 4, busy: 0, pid: consumer.pid });

    const page = await http(`${base}/consumers`, { bearer: TOKEN, headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/<td>claude_code<\/td><td>running<\/td><td>1\/4<\/td><td>0<\/td>/);
    // Bull Board's header menu links to it.
    const boardPage = await (await http(`${base}/`, { bearer: TOKEN, headers: { accept: 'text/html' } })).text();
    expect(boardPage).toContain('"url":"/consumers"');

    // The board's token rules: none or a wrong one gets 401, a browser the login form, another Host 403 even with the token.
    const anonymous = await http(`${base}/consumers`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect((await http(`${base}/consumers`, { bearer: 'wrong-token-0123456789' })).status).toBe(401);
    const browser = await http(`${base}/consumers`, { headers: { accept: 'text/html' } });
    expect(browser.status).toBe(302);
    expect(browser.headers.get('location')).toBe('/login?next=%2Fconsumers');
    expect((await getAs(`${base}/consumers`, 'evil.example', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(403);
  }, 120_000);
});
