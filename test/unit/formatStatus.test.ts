import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../src/ops/status/formatStatus.js';
import { mergeConversations, type StatusReport } from '../../src/ops/status/statusReport.js';
import { renderTable } from '../../src/ops/table.js';
import type { ProducerInfo } from '../../src/shared/ProducerPresence.js';

const NOW = Date.parse('2026-11-22T02:00:00Z');
const counts = (over: Partial<StatusReport['queues']['questions']> = {}) => ({
  waiting: 0, active: 0, delayed: 0, prioritized: 0, 'waiting-children': 0, completed: 0, failed: 0, ...over,
});

function producer(name: string, conversations: ProducerInfo['conversations']): ProducerInfo {
  return { name, host: 'h1', pid: 42, bridgeDb: '/data/bridge.db', role: 'haiku_shard', conversations, startedAt: NOW - 60_000, seenAt: NOW - 3000 };
}

const REPORT: StatusReport = {
  conversations: [
    { id: 'conv_00000000000000aa', expiresAt: '2026-11-22T04:59:00', servedBy: ['h1-42'], sideB: { status: 'working', lastHeartbeat: '2026-11-22T01:59:55.500000' } },
    { id: 'conv_00000000000000bb', expiresAt: '2026-11-22T01:00:00', servedBy: [], sideB: null },
  ],
  bridge: { path: '/data/bridge.db', error: null },
  ledger: { queued: 2, answered: 10, failed: 1, rejected: 3 },
  queues: { questions: counts({ waiting: 2, active: 1, completed: 10, failed: 1 }), answers: counts({ completed: 11 }) },
  workers: { questions: 1, answers: 1 },
  pausedQueues: [],
  consumers: [{ name: 'c1', host: 'h2', pid: 7, answerer: 'claude', sessions: 4, sessionPids: [11, 12, 13, 14], busy: 1, state: 'running', startedAt: NOW - 60_000, seenAt: NOW - 1200 }],
  producers: [{ ...producer('h1-42', []), backpressure: false }],
  oldestWaitingSeconds: 75.2,
};

describe('formatStatus', () => {
  it('renders every section with the report numbers', () => {
    expect(formatStatus(REPORT, NOW)).toBe(
      [
        'Conversations served: 2',
        '  ID                     EXPIRES (UTC)        IN       SERVED BY  SIDE B HEARTBEAT',
        '  conv_00000000000000aa  2026-11-22T04:59:00  2h59m    h1-42      working, 4.5s ago',
        '  conv_00000000000000bb  2026-11-22T01:00:00  expired  -          -',
        '',
        'Ledger (/data/bridge.db): queued 2, answered 10, failed 1, rejected 3',
        '',
        'Queues',
        '  QUEUE      WAITING  ACTIVE  DELAYED  PRIORITIZED  WAITING-CHILDREN  COMPLETED  FAILED  WORKERS',
        '  questions  2        1       0        0            0                 10         1       1',
        '  answers    0        0       0        0            0                 11         0       1',
        'Oldest waiting question: 1m15s',
        '',
        'Consumers: 1 (BullMQ counts 1 worker on questions)',
        '  NAME  HOST  PID  ANSWERER  STATE    SESSIONS  BUSY  SESSION PIDS  SEEN',
        '  c1    h2    7    claude    running  4         1     11,12,13,14   1.2s ago',
        '',
        'Producers: 1',
        '  NAME   HOST  PID  ROLE         CONVERSATIONS  BACKPRESSURE  BRIDGE           SEEN',
        '  h1-42  h1    42   haiku_shard  0              no            /data/bridge.db  3.0s ago',
        '',
      ].join('\n'),
    );
  });

  it('shows live over maximum sessions for a consumer that reports its live ones', () => {
    const elastic = { ...REPORT.consumers[0]!, sessions: 16, maxSessions: 16, liveSessions: 3, sessionPids: [11, 12, 13] };
    const text = formatStatus({ ...REPORT, consumers: [elastic] }, NOW);
    expect(text).toContain('  c1    h2    7    claude    running  3/16      1     11,12,13      1.2s ago');
  });

  it('an unreadable bridge, paused queues and an empty fleet each take one line', () => {
    const text = formatStatus(
      {
        ...REPORT,
        conversations: [],
        bridge: { path: 'x.db', error: 'bridge file x.db does not exist; pass --bridge-db (env BRIDGE_DB)' },
        ledger: null,
        pausedQueues: ['questions'],
        workers: { questions: 0, answers: 0 },
        consumers: [],
        producers: [],
        oldestWaitingSeconds: null,
      },
      NOW,
    );
    expect(text).toContain('Conversations served: 0 (no producer lists one)\n');
    expect(text).toContain('\nLedger: bridge file x.db does not exist; pass --bridge-db (env BRIDGE_DB)\n');
    expect(text).toMatch(/\n {2}questions \(paused\) +2 /);
    expect(text).toContain('Oldest waiting question: none\n');
    expect(text).toContain('Consumers: 0 (BullMQ counts 0 workers on questions)\n');
    expect(text.endsWith('Producers: 0\n')).toBe(true);
  });

  it('a stopped consumer: counted in the head, its state in the table, its reason (with the fix) on a line of its own', () => {
    const why = 'no Claude credentials: none in the environment; set ANTHROPIC_API_KEY; then restart the consumer';
    const stopped = { ...REPORT.consumers[0]!, name: 'c2', sessionPids: [], busy: 0, state: 'stopped' as const, reason: why };
    const text = formatStatus({ ...REPORT, consumers: [REPORT.consumers[0]!, stopped] }, NOW);
    expect(text).toContain(
      [
        'Consumers: 2, 1 stopped (BullMQ counts 1 worker on questions)',
        '  NAME  HOST  PID  ANSWERER  STATE    SESSIONS  BUSY  SESSION PIDS  SEEN',
        '  c1    h2    7    claude    running  4         1     11,12,13,14   1.2s ago',
        '  c2    h2    7    claude    stopped  4         0     -             1.2s ago',
        `  c2 stopped: ${why}`,
        '',
      ].join('\n'),
    );
  });
});

describe('mergeConversations', () => {
  it("joins the producers' lists and the bridge's live side b; the bridge's expiry wins", () => {
    const merged = mergeConversations(
      [producer('p1', [{ id: 'conv_b', expiresAt: 'T1' }, { id: 'conv_a', expiresAt: 'T2' }]), producer('p2', [{ id: 'conv_b', expiresAt: 'T1' }])],
      [{ id: 'conv_b', expiresAt: 'T9', sideB: { status: 'waiting', lastHeartbeat: 'H' } }, { id: 'conv_c', expiresAt: 'T3', sideB: { status: 'working', lastHeartbeat: 'H' } }],
    );
    expect(merged).toEqual([
      { id: 'conv_a', expiresAt: 'T2', servedBy: ['p1'], sideB: null },
      { id: 'conv_b', expiresAt: 'T9', servedBy: ['p1', 'p2'], sideB: { status: 'waiting', lastHeartbeat: 'H' } },
      { id: 'conv_c', expiresAt: 'T3', servedBy: [], sideB: { status: 'working', lastHeartbeat: 'H' } },
    ]);
  });

  it('without the bridge, the producers alone', () => {
    expect(mergeConversations([producer('p1', [{ id: 'conv_a', expiresAt: 'T' }])], null)).toEqual([{ id: 'conv_a', expiresAt: 'T', servedBy: ['p1'], sideB: null }]);
  });
});

describe('renderTable', () => {
  it('pads every column but the last, with no trailing spaces', () => {
    expect(renderTable(['A', 'BB', 'C'], [['xxx', '', ''], ['y', 'z', 'w']])).toEqual(['  A    BB  C', '  xxx', '  y    z   w']);
  });
});
