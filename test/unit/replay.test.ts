import { describe, expect, it } from 'vitest';
import type { LedgerRow } from '../../src/bridge/Ledger.js';
import { planLines, resultLines } from '../../src/ops/replay/replayReport.js';
import { decide, hasSelector, matches, parseWhen, type ReplaySelector } from '../../src/ops/replay/replaySelection.js';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0); // 2026-11-22T12:00:00Z
const micros = (iso: string) => Date.parse(iso) * 1000;

function row(extra: Partial<LedgerRow> = {}): LedgerRow {
  return {
    message_id: 12,
    conversation_id: 'conv_a',
    query_id: 'q_12',
    state: 'failed',
    attempts: 3,
    job_id: 'm-12',
    taken_at: '2026-11-22T07:59:00.000000',
    finished_at: '2026-11-22T08:00:00.250000',
    response_message_id: 13,
    error_kind: 'stub_failure',
    last_error: 'stub failure requested by the question (attempt 3)',
    updated_at: '2026-11-22T08:00:00.250000',
    ...extra,
  };
}

describe('parseWhen', () => {
  it('reads ages back from now, in epoch micros', () => {
    expect(parseWhen('90m', NOW)).toBe((NOW - 90 * 60_000) * 1000);
    expect(parseWhen('2h', NOW)).toBe((NOW - 2 * 3_600_000) * 1000);
    expect(parseWhen('7d', NOW)).toBe((NOW - 7 * 86_400_000) * 1000);
    expect(parseWhen('30s', NOW)).toBe((NOW - 30_000) * 1000);
    expect(parseWhen(' 2h ', NOW)).toBe((NOW - 2 * 3_600_000) * 1000);
    expect(parseWhen('0m', NOW)).toBe(NOW * 1000);
  });

  it('reads an ISO date as its UTC midnight', () => {
    expect(parseWhen('2026-11-22', NOW)).toBe(micros('2026-11-22T00:00:00Z'));
  });

  it('reads an ISO date-time without a zone as UTC, like the bridge timestamps', () => {
    expect(parseWhen('2026-11-22T08:00', NOW)).toBe(micros('2026-11-22T08:00:00Z'));
    expect(parseWhen('2026-11-22T08:00:30', NOW)).toBe(micros('2026-11-22T08:00:30Z'));
    expect(parseWhen('2026-11-22T08:00:30.250', NOW)).toBe(micros('2026-11-22T08:00:30.250Z'));
  });

  it('honours a zone when one is given', () => {
    expect(parseWhen('2026-11-22T08:00Z', NOW)).toBe(micros('2026-11-22T08:00:00Z'));
    expect(parseWhen('2026-11-22T08:00+02:00', NOW)).toBe(micros('2026-11-22T06:00:00Z'));
    expect(parseWhen('2026-11-22T08:00:00-0500', NOW)).toBe(micros('2026-11-22T13:00:00Z'));
  });

  it('refuses anything else with an Error that says what is accepted', () => {
    for (const text of ['yesterday', '', '2h ago', '1.5h', '-2h', '5w', '2026-13-45', '2026-11-22T25:00', 'T']) {
      const r = parseWhen(text, NOW);
      expect(r, text).toBeInstanceOf(Error);
      const message = (r as Error).message;
      expect(message).toContain(`"${text}" is not a time`);
      expect(message).toContain('ISO 8601');
      expect(message).toContain('2026-11-22T08:00');
      expect(message).toContain('UTC unless zoned');
      expect(message).toContain('90m, 2h, 7d');
    }
  });
});

describe('matches', () => {
  const none: ReplaySelector = { failed: true, queryIds: [] };

  it('matches everything when nothing narrows it', () => {
    expect(matches(row(), none)).toBe(true);
    expect(matches(row({ finished_at: null, error_kind: null }), none)).toBe(true);
  });

  it('narrows by conversation and error kind', () => {
    expect(matches(row(), { ...none, conversation: 'conv_a' })).toBe(true);
    expect(matches(row(), { ...none, conversation: 'conv_b' })).toBe(false);
    expect(matches(row(), { ...none, errorKind: 'stub_failure' })).toBe(true);
    expect(matches(row(), { ...none, errorKind: 'turn_timeout' })).toBe(false);
    expect(matches(row({ error_kind: null }), { ...none, errorKind: 'stub_failure' })).toBe(false);
    expect(matches(row(), { ...none, conversation: 'conv_a', errorKind: 'turn_timeout' })).toBe(false);
  });

  it('narrows by when the error response was written, bounds included, to the microsecond', () => {
    const at = micros('2026-11-22T08:00:00Z') + 250_000;
    expect(matches(row(), { ...none, since: at })).toBe(true);
    expect(matches(row(), { ...none, since: at + 1 })).toBe(false);
    expect(matches(row(), { ...none, until: at })).toBe(true);
    expect(matches(row(), { ...none, until: at - 1 })).toBe(false);
    expect(matches(row(), { ...none, since: at - 1000, until: at + 1000 })).toBe(true);
    expect(matches(row(), { ...none, since: parseWhen('2026-11-22', NOW) as number, until: parseWhen('2026-11-22T09:00', NOW) as number })).toBe(true);
    expect(matches(row(), { ...none, since: parseWhen('2h', NOW) as number })).toBe(false); // 08:00 is 4 h before noon
    expect(matches(row(), { ...none, since: parseWhen('5h', NOW) as number })).toBe(true);
  });

  it('a row with no (or an unreadable) finish time matches no time window', () => {
    expect(matches(row({ finished_at: null }), { ...none, since: 0 })).toBe(false);
    expect(matches(row({ finished_at: null }), { ...none, until: Number.MAX_SAFE_INTEGER })).toBe(false);
    expect(matches(row({ finished_at: 'not a time' }), { ...none, since: 0 })).toBe(false);
  });
});

describe('hasSelector', () => {
  it('is true when any selector is given', () => {
    const empty: ReplaySelector = { failed: false, queryIds: [] };
    expect(hasSelector(empty)).toBe(false);
    expect(hasSelector({ ...empty, failed: true })).toBe(true);
    expect(hasSelector({ ...empty, queryIds: ['q'] })).toBe(true);
    expect(hasSelector({ ...empty, conversation: 'c' })).toBe(true);
    expect(hasSelector({ ...empty, since: 0 })).toBe(true);
    expect(hasSelector({ ...empty, until: 0 })).toBe(true);
    expect(hasSelector({ ...empty, errorKind: 'k' })).toBe(true);
  });
});

describe('decide', () => {
  it('replays only a question that got an error response; the others say why not', () => {
    const failed = row();
    expect(decide(failed)).toEqual({ row: failed, replay: true });
    expect(decide(row({ state: 'answered' }))).toMatchObject({ replay: false, reason: 'already answered' });
    expect(decide(row({ state: 'queued' }))).toMatchObject({ replay: false, reason: 'still queued: it has not failed (yet)' });
    expect(decide(row({ state: 'rejected' }))).toMatchObject({ replay: false, reason: 'rejected when taken: not a usable query, nothing to replay' });
  });
});

describe('replay report', () => {
  const failed = row();
  const other = row({ message_id: 20, query_id: null, conversation_id: 'conv_b', finished_at: null, error_kind: null, last_error: null });

  it('planLines lists what would be replayed, then what would be skipped and why', () => {
    expect(planLines([decide(failed), decide(row({ message_id: 14, query_id: 'q_14', state: 'answered' })), decide(row({ message_id: 15, query_id: null, state: 'rejected' }))])).toEqual([
      'would replay 1 question:',
      '  message 12  conversation conv_a  query q_12  failed at 2026-11-22T08:00:00.250000 stub_failure: stub failure requested by the question (attempt 3)',
      'would skip query q_14: already answered',
      'would skip query 15: rejected when taken: not a usable query, nothing to replay',
    ]);
    expect(planLines([decide(failed), decide(other)])).toEqual([
      'would replay 2 questions:',
      '  message 12  conversation conv_a  query q_12  failed at 2026-11-22T08:00:00.250000 stub_failure: stub failure requested by the question (attempt 3)',
      '  message 20  conversation conv_b  query -  failed at -',
    ]);
    expect(planLines([])).toEqual(['would replay 0 questions:']);
  });

  it('planLines cuts a long last error to 80 characters', () => {
    const lines = planLines([decide(row({ last_error: 'e'.repeat(200) }))]);
    expect(lines[1]).toBe(`  message 12  conversation conv_a  query q_12  failed at 2026-11-22T08:00:00.250000 stub_failure: ${'e'.repeat(80)}`);
  });

  it('resultLines reports skips, failures and the totals', () => {
    const skipped = [decide(row({ message_id: 14, query_id: 'q_14', state: 'answered' })), decide(failed)];
    const results = [
      { row: failed, replayed: true as const, how: 'retried' as const },
      { row: row({ message_id: 16, query_id: 'q_16' }), replayed: true as const, how: 'rebuilt' as const },
      { row: row({ message_id: 17, query_id: 'q_17' }), replayed: true as const, how: 'retried' as const },
      { row: row({ message_id: 18, query_id: 'q_18' }), replayed: false as const, reason: 'its job m-18 is active: a retry is already under way' },
    ];
    expect(resultLines(skipped, results, ['query q_19: Redis refused the job'])).toEqual([
      'skipped query q_14: already answered',
      'skipped query q_18: its job m-18 is active: a retry is already under way',
      'query q_19: Redis refused the job',
      'replayed 3 (2 retried, 1 rebuilt from the bridge), skipped 2, 1 failed; their answers follow on the bridge (watch with `autopoll status`)',
    ]);
  });

  it('resultLines without replays has no pointer to the answers', () => {
    expect(resultLines([], [], [])).toEqual(['replayed 0 (0 retried, 0 rebuilt from the bridge), skipped 0']);
    expect(resultLines([decide(other), decide(row({ state: 'queued', query_id: 'q_q' }))], [], [])).toEqual([
      'skipped query q_q: still queued: it has not failed (yet)',
      'replayed 0 (0 retried, 0 rebuilt from the bridge), skipped 1',
    ]);
  });
});
