import { parseBridgeTimestamp } from '../../bridge/timestamp.js';
import { sessionsShown } from '../../shared/ConsumerPresence.js';
import { formatDuration } from '../../shared/duration.js';
import { renderTable } from '../table.js';
import { JOB_STATES, type StatusReport } from './statusReport.js';

/** `autopoll status` as text: one section per part of the pipeline, the same numbers as --json. */
export function formatStatus(report: StatusReport, now: number): string {
  return [
    ...conversationsSection(report, now),
    '',
    ledgerLine(report),
    '',
    ...queuesSection(report),
    `Oldest waiting question: ${report.oldestWaitingSeconds === null ? 'none' : formatDuration(report.oldestWaitingSeconds)}`,
    '',
    ...consumersSection(report, now),
    '',
    ...producersSection(report, now),
  ].join('\n') + '\n';
}

function conversationsSection(r: StatusReport, now: number): string[] {
  const head = `Conversations served: ${r.conversations.length}`;
  if (r.conversations.length === 0) return [`${head} (no producer lists one${r.ledger ? ', and no side b is alive in the bridge' : ''})`];
  const rows = r.conversations.map((c) => [
    c.id,
    c.expiresAt,
    expiresIn(c.expiresAt, now),
    c.servedBy.join(', ') || '-',
    c.sideB ? `${c.sideB.status}, ${ago(bridgeMillis(c.sideB.lastHeartbeat), now)}` : '-',
  ]);
  return [head, ...renderTable(['ID', 'EXPIRES (UTC)', 'IN', 'SERVED BY', 'SIDE B HEARTBEAT'], rows)];
}

function ledgerLine(r: StatusReport): string {
  if (!r.ledger) return `Ledger: ${r.bridge.error ?? 'not read'}`;
  const counts = Object.entries(r.ledger).map(([state, n]) => `${state} ${n}`).join(', ');
  return `Ledger (${r.bridge.path}): ${counts}`;
}

function queuesSection(r: StatusReport): string[] {
  const rows = (['questions', 'answers'] as const).map((name) => [
    r.pausedQueues.includes(name) ? `${name} (paused)` : name,
    ...JOB_STATES.map((s) => String(r.queues[name][s])),
    String(r.workers[name]),
  ]);
  return ['Queues', ...renderTable(['QUEUE', ...JOB_STATES.map((s) => s.toUpperCase()), 'WORKERS'], rows)];
}

function consumersSection(r: StatusReport, now: number): string[] {
  // Stopped, or in a state a newer consumer names: not taking questions as far as this one knows.
  const stopped = r.consumers.filter((c) => c.state !== 'running');
  const head = `Consumers: ${r.consumers.length}${stopped.length ? `, ${stopped.length} stopped` : ''} (BullMQ counts ${r.workers.questions} worker${r.workers.questions === 1 ? '' : 's'} on questions)`;
  if (r.consumers.length === 0) return [head];
  const rows = r.consumers.map((c) => [
    c.name, c.host, String(c.pid), c.answerer, c.state, sessionsShown(c), String(c.busy),
    c.sessionPids.join(',') || '-', ago(c.seenAt, now),
  ]);
  // A reason (with its fix) is too long for a column: one line each, under the table.
  const reasons = stopped.map((c) => `  ${c.name} ${c.state}: ${c.reason ?? 'no reason given'}`);
  return [head, ...renderTable(['NAME', 'HOST', 'PID', 'ANSWERER', 'STATE', 'SESSIONS', 'BUSY', 'SESSION PIDS', 'SEEN'], rows), ...reasons];
}

function producersSection(r: StatusReport, now: number): string[] {
  const head = `Producers: ${r.producers.length}`;
  if (r.producers.length === 0) return [head];
  const rows = r.producers.map((p) => [
    p.name, p.host, String(p.pid), p.role ?? '-', String(p.conversations.length),
    p.backpressure ? 'yes' : 'no', p.bridgeDb, ago(p.seenAt, now),
  ]);
  return [head, ...renderTable(['NAME', 'HOST', 'PID', 'ROLE', 'CONVERSATIONS', 'BACKPRESSURE', 'BRIDGE', 'SEEN'], rows)];
}

function expiresIn(expiresAt: string, now: number): string {
  const left = (bridgeMillis(expiresAt) - now) / 1000;
  return left > 0 ? formatDuration(left) : 'expired';
}

function ago(at: number, now: number): string {
  return `${formatDuration((now - at) / 1000)} ago`;
}

/** Epoch milliseconds of a bridge timestamp (naive UTC); NaN when unreadable, shown as such. */
function bridgeMillis(text: string): number {
  const micros = parseBridgeTimestamp(text);
  return micros === undefined ? Number.NaN : micros / 1000;
}
