import { describe, expect, it } from 'vitest';
import { consumersPage } from '../../src/board/consumersPage.js';
import { sessionsShown, type ConsumerInfo } from '../../src/shared/ConsumerPresence.js';

const NOW = 1_800_000_000_000;

function consumer(extra: Partial<ConsumerInfo> = {}): ConsumerInfo {
  return { name: 'c1', host: 'h', pid: 7, answerer: 'claude', sessions: 16, sessionPids: [], busy: 0, state: 'running', startedAt: NOW - 60_000, seenAt: NOW - 3000, ...extra };
}

describe('sessionsShown', () => {
  it('is live/max where the pool is elastic, the max alone where every session always runs', () => {
    expect(sessionsShown(consumer({ liveSessions: 1 }))).toBe('1/16');
    expect(sessionsShown(consumer({ liveSessions: 0 }))).toBe('0/16');
    expect(sessionsShown(consumer())).toBe('16');
  });
});

describe('consumersPage', () => {
  it('shows each consumer with live/max sessions, busy and when it was seen; a stopped one with its reason', () => {
    const html = consumersPage([consumer({ liveSessions: 3, busy: 2 }), consumer({ name: 'c2', state: 'stopped', reason: 'no credentials: log in' })], NOW);
    expect(html).toContain('<h1>Consumers: 2</h1>');
    expect(html).toMatch(/<td>running<\/td><td>3\/16<\/td><td>2<\/td><td>3.0s ago<\/td>/);
    expect(html).toContain('c2 stopped: no credentials: log in');
  });

  it('escapes what consumers wrote about themselves', () => {
    const html = consumersPage([consumer({ name: '<script>x</script>' })], NOW);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;');
  });

  it('says when none was seen', () => {
    expect(consumersPage([], NOW)).toContain('None seen in the last 30 s.');
  });
});
