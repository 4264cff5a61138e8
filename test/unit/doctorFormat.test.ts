import { describe, expect, it } from 'vitest';
import { fail, ok, skip, warn, type CheckResult } from '../../src/shared/checks.js';
import { doctorExitCode, formatJson, formatReport, summary } from '../../src/doctor/format.js';

const RESULTS: CheckResult[] = [
  ok('redis', 'Redis 7.0.15 at redis://127.0.0.1:6379'),
  fail('eviction', 'maxmemory-policy is allkeys-lru: BullMQ loses jobs when Redis evicts keys', 'redis-cli CONFIG SET maxmemory-policy noeviction'),
  warn('persistence', 'no persistence', 'redis-cli CONFIG SET appendonly yes'),
  skip('claude', 'not checked: --skip-claude'),
];

describe('formatReport', () => {
  it('prints status, name and detail in columns, the fix indented below, and a summary', () => {
    expect(formatReport(RESULTS)).toBe(
      [
        'ok    redis        Redis 7.0.15 at redis://127.0.0.1:6379',
        'FAIL  eviction     maxmemory-policy is allkeys-lru: BullMQ loses jobs when Redis evicts keys',
        '                   fix: redis-cli CONFIG SET maxmemory-policy noeviction',
        'warn  persistence  no persistence',
        '                   fix: redis-cli CONFIG SET appendonly yes',
        'skip  claude       not checked: --skip-claude',
        '',
        '1 failed, 1 warning, 1 ok, 1 skipped: fix the FAIL lines and run autopoll doctor again',
        '',
      ].join('\n'),
    );
  });

  it('keeps a space after a name as long as the column, and a detail on one line', () => {
    const out = formatReport([ok('context-root', '/srv/ctx'), ok('a-very-long-check', 'first\n  second')]);
    expect(out.split('\n').slice(0, 2)).toEqual(['ok    context-root /srv/ctx', 'ok    a-very-long-check first | second']);
  });

  it('indents every line of a fix that has several', () => {
    const out = formatReport([fail('bridge', 'broken', 'first do this\nthen that')]);
    expect(out.split('\n').slice(0, 3)).toEqual(['FAIL  bridge       broken', '                   fix: first do this', '                        then that']);
  });

  it('prints no fix line for an ok or a fail without one', () => {
    expect(formatReport([ok('redis', 'fine'), fail('claude', 'no answer within 60 s')]).split('\n').slice(0, 3)).toEqual([
      'ok    redis        fine',
      'FAIL  claude       no answer within 60 s',
      '',
    ]);
  });
});

describe('summary and exit code', () => {
  it('says nothing failed when only warnings and skips are left, and exits 0', () => {
    const results = [ok('a', ''), warn('b', '', 'x'), warn('c', '', 'y'), skip('d', '')];
    expect(summary(results)).toBe('2 warnings, 1 ok, 1 skipped: nothing failed');
    expect(doctorExitCode(results)).toBe(0);
  });

  it('exits 1 when anything failed', () => {
    expect(doctorExitCode(RESULTS)).toBe(1);
    expect(summary([fail('a', ''), fail('b', '')])).toBe('2 failed, 0 ok: fix the FAIL lines and run autopoll doctor again');
  });

  it('all ok', () => {
    expect(summary([ok('a', ''), ok('b', '')])).toBe('2 ok: nothing failed');
    expect(doctorExitCode([])).toBe(0);
  });
});

describe('formatJson', () => {
  it('prints an array of {name, status, detail, fix?}, fix only where there is one', () => {
    const parsed = JSON.parse(formatJson(RESULTS)) as unknown;
    expect(parsed).toEqual([
      { name: 'redis', status: 'ok', detail: 'Redis 7.0.15 at redis://127.0.0.1:6379' },
      { name: 'eviction', status: 'fail', detail: 'maxmemory-policy is allkeys-lru: BullMQ loses jobs when Redis evicts keys', fix: 'redis-cli CONFIG SET maxmemory-policy noeviction' },
      { name: 'persistence', status: 'warn', detail: 'no persistence', fix: 'redis-cli CONFIG SET appendonly yes' },
      { name: 'claude', status: 'skip', detail: 'not checked: --skip-claude' },
    ]);
    expect(Object.keys((parsed as object[])[0]!)).toEqual(['name', 'status', 'detail']);
  });
});
