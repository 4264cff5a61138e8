import { describe, expect, it } from 'vitest';
import { authorize, readCookie, SESSION_COOKIE, type BoardAuth } from '../../src/board/auth.js';
import { bindRefusal, isLoopback } from '../../src/board/bindPolicy.js';
import { answerView, questionView } from '../../src/board/bullBoard.js';
import { crossSiteWrite } from '../../src/board/crossSite.js';
import { addressBucket, LOGIN_LIMITS, LoginThrottle } from '../../src/board/loginThrottle.js';
import { BoardSessions } from '../../src/board/sessions.js';
import { SERVER } from '../../src/cli/options.js';
import { parseOptions } from '../../src/cli/parseOptions.js';
import { progressVerdict, readiness, readinessCheck, type ProgressState } from '../../src/board/readiness.js';

describe('isLoopback', () => {
  it.each(['127.0.0.1', '127.5.5.5', '127.255.255.254', '::1', '[::1]', 'localhost', 'LocalHost'])('%s is loopback', (host) => {
    expect(isLoopback(host)).toBe(true);
  });

  it.each(['0.0.0.0', '10.0.0.1', '::', '[::]', '192.168.1.10', '128.0.0.1', '127.0.0.1.evil.example', 'localhost.evil.example', 'example.com', '::2'])(
    '%s is not',
    (host) => {
      expect(isLoopback(host)).toBe(false);
    },
  );
});

describe('bindRefusal', () => {
  it('lets loopback bind without a token and anything bind with one', () => {
    expect(bindRefusal('127.0.0.1', false, true)).toBeUndefined();
    expect(bindRefusal('::1', false, true)).toBeUndefined();
    expect(bindRefusal('0.0.0.0', true, true)).toBeUndefined();
    expect(bindRefusal('::', true, false)).toBeUndefined();
  });

  it('refuses any other bind without a token, saying what to do', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.1']) {
      const refusal = bindRefusal(host, false, true);
      expect(refusal).toContain(`the board, where anyone who reaches it could retry or delete jobs, on ${host} without a token`);
      expect(bindRefusal(host, false, false)).toContain(`the probes and metrics, open to anyone who reaches them, on ${host} without a token`);
      expect(refusal).toContain('Set AUTOPOLL_BOARD_TOKEN');
      expect(refusal).toContain('bind to 127.0.0.1 with --host');
    }
  });
});

describe('board auth', () => {
  const token = 'the-board-token-0123456789';

  it('a session cookie is an expiry and an HMAC of it, never the token; it expires, and a logout or another process voids it', () => {
    let now = 1_000_000_000_000;
    const sessions = new BoardSessions(60, () => now);
    const value = sessions.issue();
    expect(value).toMatch(/^1000000060000\.[0-9a-f]{64}$/);
    expect(value).not.toContain(token);
    expect(sessions.valid(value)).toBe(true);
    // Another expiry with this signature, a signature of another process, or a mangled value: nothing.
    expect(sessions.valid(value.replace('1000000060000.', '1000099999000.'))).toBe(false);
    expect(sessions.valid(new BoardSessions(60, () => now).issue())).toBe(false);
    for (const bad of [undefined, '', value.slice(0, -1), `${value}0`, value.toUpperCase(), `x${value}`]) expect(sessions.valid(bad), String(bad)).toBe(false);
    now += 59_999;
    expect(sessions.valid(value)).toBe(true);
    now += 1;
    expect(sessions.valid(value)).toBe(false);
    const fresh = sessions.issue();
    expect(sessions.valid(fresh)).toBe(true);
    sessions.revokeAll();
    expect(sessions.valid(fresh)).toBe(false);
    expect(sessions.valid(sessions.issue())).toBe(true);
  });

  it('a session lasts at least its TTL, whatever the millisecond it was issued at', () => {
    let now = 1_000_000_000_999;
    const sessions = new BoardSessions(2, () => now);
    const value = sessions.issue();
    now += 1_999;
    expect(sessions.valid(value)).toBe(true);
    now += 1;
    expect(sessions.valid(value)).toBe(false);
  });

  it('readCookie finds one cookie by its exact name', () => {
    expect(readCookie(undefined, 'a')).toBeUndefined();
    expect(readCookie('', 'a')).toBeUndefined();
    expect(readCookie('a=1', 'a')).toBe('1');
    expect(readCookie('x=0; a=1; b=2', 'b')).toBe('2');
    expect(readCookie('x=0;a=1 ;  b = 2 ', 'b')).toBe('2');
    expect(readCookie('xa=1; ax=2', 'a')).toBeUndefined();
    expect(readCookie('a=1; a=2', 'a')).toBe('1');
    expect(readCookie('a=x=y', 'a')).toBe('x=y');
    expect(readCookie('a=hello%20world', 'a')).toBe('hello world');
    expect(readCookie('=1; a', 'a')).toBeUndefined();
  });

  it('readCookie treats a malformed escape as no cookie instead of throwing', () => {
    expect(readCookie('a=%E0%A4%A', 'a')).toBeUndefined();
    expect(readCookie('b=%; a=1', 'a')).toBe('1');
  });

  it('authorize accepts the token as a bearer, or a live session cookie, and nothing else', async () => {
    const auth: BoardAuth = { token, sessions: new BoardSessions(3600), throttle: new LoginThrottle({ ...LOGIN_LIMITS, perAddress: 100, overall: 100 }) };
    const req = (headers: Record<string, string>) => ({ headers, ip: '127.0.0.1' });
    const session = `${SESSION_COOKIE}=${auth.sessions.issue()}`;
    expect(await authorize(req({}), auth)).toBe(false);
    expect(await authorize(req({ authorization: `Bearer ${token}` }), auth)).toBe(true);
    expect(await authorize(req({ authorization: `bearer   ${token}` }), auth)).toBe(true);
    expect(await authorize(req({ authorization: `Bearer ${token} ` }), auth)).toBe(true);
    expect(await authorize(req({ authorization: `Bearer ${token}x` }), auth)).toBe(false);
    expect(await authorize(req({ authorization: `Bearer ${token.slice(1)}` }), auth)).toBe(false);
    expect(await authorize(req({ authorization: `Basic ${token}` }), auth)).toBe(false);
    expect(await authorize(req({ authorization: token }), auth)).toBe(false);
    expect(await authorize(req({ cookie: session }), auth)).toBe(true);
    expect(await authorize(req({ cookie: `theme=dark; ${session}` }), auth)).toBe(true);
    // The cookie must be a session of this process, not the token.
    expect(await authorize(req({ cookie: `${SESSION_COOKIE}=${token}` }), auth)).toBe(false);
    expect(await authorize(req({ cookie: `${SESSION_COOKIE}=${new BoardSessions(3600).issue()}` }), auth)).toBe(false);
    expect(await authorize(req({ cookie: `other=${session.split('=')[1]}` }), auth)).toBe(false);
    expect(await authorize(req({ cookie: `${SESSION_COOKIE}=%E0%A4%A` }), auth)).toBe(false);
  });

  it('authorize accepts the right bearer at once from an address whose wrong ones wait, and answers wrong ones past the waiting cap with 429', async () => {
    const limits = { ...LOGIN_LIMITS, perAddress: 2, overall: 10, firstPauseMs: 1000, maxPauseMs: 1000, maxWaiting: 2 };
    const auth: BoardAuth = { token, sessions: new BoardSessions(3600), throttle: new LoginThrottle(limits) };
    const as = (ip: string, bearer: string) => ({ headers: { authorization: `Bearer ${bearer}` }, ip });
    expect(await authorize(as('10.0.0.1', 'wrong-0123456789'), auth)).toBe(false);
    expect(await authorize(as('10.0.0.1', 'wrong-0123456789'), auth)).toBe(false);
    const started = Date.now();
    const waiting = [0, 1].map(() => authorize(as('10.0.0.1', 'wrong-0123456789'), auth));
    expect(await authorize(as('10.0.0.1', 'wrong-0123456789'), auth)).toBe(1);
    expect(await authorize(as('10.0.0.1', token), auth)).toBe(true);
    expect(Date.now() - started, 'the right token did not wait').toBeLessThan(500);
    expect(await Promise.all(waiting)).toEqual([false, false]);
    expect(Date.now() - started, 'the wrong ones were answered one per pause').toBeGreaterThanOrEqual(1900);
  });

  it('a guesser at 3 wrong tokens a second from 127.0.0.1 never keeps the right token out: it is checked, and accepted, at once', async () => {
    let now = 0;
    const auth: BoardAuth = { token, sessions: new BoardSessions(3600), throttle: new LoginThrottle(LOGIN_LIMITS, () => now) };
    const as = (ip: string, bearer: string) => ({ headers: { authorization: `Bearer ${bearer}` }, ip });
    const refused: number[] = [];
    for (; now < 120_000; now += 333) {
      // The guesser's answers may wait (real time); only whether the operator's comes at once matters here.
      void authorize(as('127.0.0.1', 'wrong-0123456789'), auth).then((v) => typeof v === 'number' && refused.push(v));
      if (now % 10_000 < 333) {
        const started = Date.now();
        expect(await authorize(as('127.9.8.7', token), auth), `at ${now} ms`).toBe(true);
        expect(await authorize(as('127.0.0.1', token), auth), `at ${now} ms`).toBe(true);
        expect(Date.now() - started, 'no pause (each is 1 s or more)').toBeLessThan(500);
      }
    }
    expect(refused.length, 'the guesser itself was refused').toBeGreaterThan(0);
  });
});

describe('LoginThrottle', () => {
  const limits = { perAddress: 3, overall: 5, windowMs: 60_000, firstPauseMs: 1_000, maxPauseMs: 4_000, maxWaiting: 3, maxAddresses: 100 };

  it('answers wrong tokens at once under the limits; past an address\'s own, one per doubling pause, and 429 past the waiting cap', () => {
    let now = 0;
    const throttle = new LoginThrottle(limits, () => now);
    for (let i = 0; i < 3; i++) expect(throttle.fail('10.0.0.1')).toEqual({ waitMs: 0 });
    expect(throttle.fail('10.0.0.1')).toEqual({ waitMs: 1_000 });
    expect(throttle.fail('10.0.0.1')).toEqual({ waitMs: 3_000 });
    expect(throttle.fail('10.0.0.1')).toEqual({ waitMs: 7_000 });
    // Three wait: the next is refused until the first is answered.
    expect(throttle.fail('10.0.0.1')).toEqual({ retryAfterSeconds: 1 });
    now = 1_000;
    expect(throttle.fail('10.0.0.1')).toEqual({ waitMs: 10_000 });
    // Another address is not paced by this one's count.
    expect(throttle.fail('10.0.0.2')).toEqual({ waitMs: 1_000 });
  });

  it('paces every address past the overall limit; the window lasts until the last waiting answer, then forgets all', () => {
    let now = 0;
    const throttle = new LoginThrottle(limits, () => now);
    for (const address of ['a', 'b', 'c', 'd', 'e']) expect(throttle.fail(address)).toEqual({ waitMs: 0 });
    expect(throttle.fail('f')).toEqual({ waitMs: 1_000 });
    expect(throttle.fail('a')).toEqual({ waitMs: 1_000 });
    now = 59_999;
    expect(throttle.fail('a')).toEqual({ waitMs: 1_000 });
    // Past the minute, but one answer still waits (until 60 999): this one comes a pause after it.
    now = 60_000;
    expect(throttle.fail('a')).toEqual({ waitMs: 1_999 });
    now = 61_999;
    expect(throttle.fail('a')).toEqual({ waitMs: 0 });
  });

  it('counts all of loopback (127.0.0.0/8, ::1, ::ffff:127.x) as one address, IPv4-mapped as IPv4, and IPv6 by /64', () => {
    for (const local of ['127.0.0.1', '127.9.8.7', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::ffff:7f09:807']) expect(addressBucket(local), local).toBe('loopback');
    expect(addressBucket('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressBucket('2001:db8:1:2:aaaa::1')).toBe(addressBucket('2001:db8:1:2:bbbb:cccc:dddd:eeee'));
    expect(addressBucket('2001:db8:1:2::1')).not.toBe(addressBucket('2001:db8:1:3::1'));
    expect(addressBucket('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    let now = 0;
    const throttle = new LoginThrottle(limits, () => now);
    for (let i = 0; i < 3; i++) throttle.fail('127.0.0.1');
    expect(throttle.fail('127.9.8.7'), 'another loopback address shares the count').toEqual({ waitMs: 1_000 });
    expect(throttle.fail('::1')).toEqual({ waitMs: 3_000 });
  });
});

describe('crossSiteWrite', () => {
  const host = '127.0.0.1:3000';

  it('lets reads through whatever their origin', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'get']) expect(crossSiteWrite(method, { host, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })).toBe(false);
  });

  it('refuses a write that a browser says comes from another site, or another origin of this one', () => {
    for (const site of ['cross-site', 'same-site']) expect(crossSiteWrite('POST', { host, 'sec-fetch-site': site })).toBe(true);
    for (const origin of ['https://evil.example', 'http://127.0.0.1:8080', 'http://localhost:3000', 'null']) {
      expect(crossSiteWrite('PUT', { host, origin }), origin).toBe(true);
    }
  });

  it('lets a same-origin write through, and a script that names no origin', () => {
    expect(crossSiteWrite('PUT', { host, 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:3000' })).toBe(false);
    expect(crossSiteWrite('POST', { host, origin: 'http://127.0.0.1:3000' })).toBe(false);
    expect(crossSiteWrite('POST', { host: 'Board.Example', origin: 'https://board.example' })).toBe(false);
    expect(crossSiteWrite('POST', { host: 'board.example:443', origin: 'https://board.example' })).toBe(false);
    expect(crossSiteWrite('DELETE', { host })).toBe(false);
  });
});

describe('--trust-proxy and --session-ttl', () => {
  const parse = (values: Record<string, unknown>) => parseOptions(SERVER, { host: '127.0.0.1', sessionTtl: '43200', ...values });

  it('reads express trust proxy values: off by default, the bare flag, booleans, hop counts, proxy lists', () => {
    expect(parse({}).trustProxy).toBe(false);
    expect(parse({ trustProxy: true }).trustProxy).toBe(true);
    for (const [given, read] of [['true', true], ['false', false], ['', false], ['1', 1], [' 2 ', 2], ['loopback', 'loopback'], ['10.0.0.0/8, ::1, uniquelocal', '10.0.0.0/8, ::1, uniquelocal']] as const) {
      expect(parse({ trustProxy: given }).trustProxy, given).toBe(read);
    }
    expect(parse({}).sessionTtl).toBe(43_200);
  });

  it('refuses what express would not understand, naming the entry and the flag', () => {
    for (const bad of ['proxy.example', '10.0.0.0/33', '::1/129', '10.0.0.1/8/8', 'yes', '1,,2']) {
      expect(() => parse({ trustProxy: bad }), bad).toThrow(/--trust-proxy \(env AUTOPOLL_TRUST_PROXY\): ".*" is not a proxy/);
    }
    expect(() => parse({ sessionTtl: '0' })).toThrow('--session-ttl (env AUTOPOLL_SESSION_TTL): must be at least 1');
  });
});

describe('progressVerdict', () => {
  const healthy: ProgressState = { running: true, waiting: 0, busy: 0, concurrency: 4, idleMs: 0, stallMs: 60_000 };

  it('a worker that is not running is not ready', () => {
    expect(progressVerdict({ ...healthy, running: false })).toEqual({ ok: false, detail: 'the worker is not running' });
    // ...whatever else holds.
    expect(progressVerdict({ ...healthy, running: false, waiting: 3, idleMs: 999_999 }).detail).toBe('the worker is not running');
  });

  it('jobs waiting, free slots and nothing started for longer than stallMs: stalled', () => {
    expect(progressVerdict({ ...healthy, waiting: 3, busy: 1, idleMs: 61_400 })).toEqual({
      ok: false,
      detail: '3 jobs waiting, 3 free slots, none started for 61 s',
    });
  });

  it('is ready when any condition of a stall is missing', () => {
    expect(progressVerdict({ ...healthy, waiting: 0, idleMs: 10 * 60_000 })).toEqual({ ok: true, detail: '0/4 busy, 0 waiting' });
    expect(progressVerdict({ ...healthy, waiting: 5, busy: 4, idleMs: 10 * 60_000 })).toEqual({ ok: true, detail: '4/4 busy, 5 waiting' });
    expect(progressVerdict({ ...healthy, waiting: 5, busy: 2, idleMs: 60_000 })).toEqual({ ok: true, detail: '2/4 busy, 5 waiting' }); // not yet past
    expect(progressVerdict({ ...healthy, waiting: 5, busy: 2, idleMs: 1000 }).ok).toBe(true);
  });
});

describe('readiness', () => {
  const ok = (name: string) => readinessCheck(name, async () => ({ ok: true, detail: `${name} fine` }));

  it('is ready when every check passes (and when there are none)', async () => {
    expect(await readiness([ok('a'), ok('b')])).toEqual({
      ready: true,
      checks: [{ name: 'a', ok: true, detail: 'a fine' }, { name: 'b', ok: true, detail: 'b fine' }],
    });
    expect(await readiness([])).toEqual({ ready: true, checks: [] });
  });

  it('a check that fails, throws or hangs fails alone, in order, within the timeout; the checks run at once; a late answer changes nothing', async () => {
    let finishLate!: (v: { ok: boolean; detail: string }) => void;
    const started = Date.now();
    const result = await readiness([
      ok('fine'),
      readinessCheck('says-no', async () => ({ ok: false, detail: 'not today' })),
      readinessCheck('throws', async () => { throw new Error('bridge file is gone'); }),
      readinessCheck('throws-sync', () => { throw new Error('thrown before any await'); }),
      readinessCheck('rejects-string', () => Promise.reject('plain string')),
      readinessCheck('hangs', () => new Promise(() => undefined)),
      readinessCheck('answers-late', () => new Promise((r) => (finishLate = r))),
    ]);
    const elapsed = Date.now() - started;
    // An answer after the timeout changes nothing.
    finishLate({ ok: true, detail: 'too late' });
    await new Promise((r) => setImmediate(r));
    expect(result).toEqual({
      ready: false,
      checks: [
        { name: 'fine', ok: true, detail: 'fine fine' },
        { name: 'says-no', ok: false, detail: 'not today' },
        { name: 'throws', ok: false, detail: 'bridge file is gone' },
        { name: 'throws-sync', ok: false, detail: 'thrown before any await' },
        { name: 'rejects-string', ok: false, detail: 'plain string' },
        { name: 'hangs', ok: false, detail: 'no answer within 2000 ms' },
        { name: 'answers-late', ok: false, detail: 'no answer within 2000 ms' },
      ],
    });
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(3500); // the two slow checks waited together, not one after the other
  });
});

describe('Bull Board job views', () => {
  const question = { messageId: 7, conversationId: 'conv_1', queryId: 'q_7', question: 'short question', deferrals: 1 };

  it('questionView shows a short question as it is', () => {
    expect(questionView(question)).toEqual(question);
  });

  it('questionView cuts a long question to a preview that gives its length', () => {
    const long = 'x'.repeat(300) + 'y'.repeat(200);
    const view = questionView({ ...question, question: long }) as { question: string };
    expect(view.question).toBe(`${'x'.repeat(300)}… (500 chars)`);
    expect((questionView({ ...question, question: 'z'.repeat(300) }) as { question: string }).question).toBe('z'.repeat(300));
    expect((questionView({ ...question, question: 'z'.repeat(301) }) as { question: string }).question).toBe(`${'z'.repeat(300)}… (301 chars)`);
  });

  it('questionView shows the context by path, size and truncation, never its text', () => {
    const text = 'SECRET CONTEXT LINE\n'.repeat(10);
    const view = questionView({ ...question, context: { path: 'docs/a.md', text, truncated: true } });
    expect(view).toEqual({ ...question, context: { path: 'docs/a.md', chars: text.length, truncated: true } });
    expect(JSON.stringify(view)).not.toContain('SECRET');
    expect(questionView(question)).not.toHaveProperty('context');
  });

  it("questionView says an answered job's context text was dropped", () => {
    const view = questionView({ ...question, context: { path: 'docs/a.md', text: '', truncated: false, dropped: true } });
    expect(view).toEqual({ ...question, context: { path: 'docs/a.md', truncated: false, text: 'dropped from Redis once the question was answered' } });
  });

  it('questionView passes data that is not a question job through untouched', () => {
    for (const data of [undefined, null, 'text', 42, { messageId: 'nope' }, { ...question, question: '' }]) {
      expect(questionView(data)).toBe(data);
    }
  });

  const answer = { messageId: 7, conversationId: 'conv_1', queryId: 'q_7', questionJobId: 'm-7', llmType: 'stub', attempts: 2 };

  it('answerView cuts a long answer and keeps the rest', () => {
    const outcome = { kind: 'answer' as const, answer: 'a'.repeat(1000), sources: ['docs/a.md:3'], model: 'stub' };
    expect(answerView({ ...answer, outcome })).toEqual({ ...answer, outcome: { ...outcome, answer: `${'a'.repeat(300)}… (1000 chars)` } });
    const short = { kind: 'answer' as const, answer: 'fine', sources: [] };
    expect(answerView({ ...answer, outcome: short })).toEqual({ ...answer, outcome: short });
  });

  it('answerView shows an error outcome as it is, and passes invalid data through', () => {
    const outcome = { kind: 'error' as const, errorKind: 'stub_failure', message: 'm'.repeat(1000) };
    expect(answerView({ ...answer, outcome })).toEqual({ ...answer, outcome });
    for (const data of [undefined, 'text', { ...answer, outcome: { kind: 'other' } }, { ...answer, attempts: 0, outcome }]) {
      expect(answerView(data)).toBe(data);
    }
  });
});
