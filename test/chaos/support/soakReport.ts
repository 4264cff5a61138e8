/**
 * The soak's figures (test/chaos/soak.chaos.test.ts): counters read before and after a phase's
 * measured run, and the sections of its entry in bench/results/soak.json built from them.
 */
import type { Redis } from 'ioredis';
import { loadavg } from 'node:os';
import type { BridgeFixture } from '../../support/bridge.js';
import type { AutopollProcess } from '../../support/cli.js';
import type { GcEvent, Growth, GrowthOptions, Sample, WalIndexHeader } from '../../support/resourceSampler.js';
import { commandStatsDelta, parseCommandStats, parseRedisInfo, readWalIndex, u32Delta } from '../../support/resourceSampler.js';
import { round } from '../../support/numbers.js';
import type { Asker } from './soakAsker.js';

/** What autopoll wrote to the bridge so far: rows by kind. */
export function bridgeWrites(bridge: BridgeFixture): Record<string, number> {
  const one = (sql: string) => bridge.db.prepare<[], number>(sql).pluck().get() ?? 0;
  const audit = Object.fromEntries(
    bridge.db
      .prepare<[], { action: string; n: number }>("SELECT action, COUNT(*) AS n FROM audit_log WHERE session_id = 'b' GROUP BY action")
      .all()
      .map((r) => [`audit_${r.action}`, r.n]),
  );
  return {
    responsesInserted: one("SELECT COUNT(*) FROM messages WHERE from_session = 'b'"),
    questionsMarkedRead: one("SELECT COUNT(*) FROM messages WHERE to_session = 'b' AND read = 1"),
    ledgerInserted: one('SELECT COUNT(*) FROM autopoll_ledger'),
    ledgerFinished: one('SELECT COUNT(*) FROM autopoll_ledger WHERE finished_at IS NOT NULL'),
    audit_send_message: 0,
    audit_get_messages: 0,
    ...audit,
  };
}

/** INFO stats + commandstats in one command. */
export async function redisCounters(client: Redis): Promise<{ total: number; stats: ReturnType<typeof parseCommandStats> }> {
  const text = String(await client.call('INFO', 'stats', 'commandstats'));
  return { total: Number(parseRedisInfo(text).total_commands_processed), stats: parseCommandStats(text) };
}

/** CPU seconds of each part between two samples. */
function cpuBetween(a: Sample, b: Sample, claude: boolean): Record<string, number> {
  const d = (k: string) => (b.values[k] ?? 0) - (a.values[k] ?? 0);
  const out: Record<string, number> = { producer: d('producer.cpuSec'), consumer: d('consumer.cpuSec'), redis: d('redis.cpuSec') };
  if (claude) out.claudeCode = d('consumer.descCpuSec');
  out.total = Object.values(out).reduce((s, v) => s + v, 0);
  return out;
}

function msPer(cpu: Record<string, number>, questions: number): Record<string, number> {
  return Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round((v * 1000) / Math.max(1, questions), 3)]));
}

function growthRow(g: Growth, judged: boolean): Record<string, unknown> {
  return {
    metric: g.metric,
    judged,
    first: g.first.median,
    last: g.last.median,
    growthPercent: g.growth === null ? null : Number.isFinite(g.growth) ? round(g.growth * 100, 1) : 'infinite',
    samples: [g.first.samples, g.last.samples],
  };
}

/** What a phase's counters read just before and just after its measured run. */
export interface Counters {
  writes: Record<string, number>;
  wal: WalIndexHeader | undefined;
  redis: Awaited<ReturnType<typeof redisCounters>>;
  loadavg: number[];
}

/** The bridge's and the WAL index's counters and the load now, beside Redis's (read just before). */
export function readCounters(bridge: BridgeFixture, redis: Counters['redis']): Counters {
  return { writes: bridgeWrites(bridge), wal: readWalIndex(bridge.path), redis, loadavg: loadavg() };
}

/** What the measured run of a phase gives the report. */
export interface Measured {
  /** The questions the run asked (not the prefill's or the ping's). */
  questions: number;
  asker: Asker;
  samples: Sample[];
  /** The sample taken as the run ended. */
  end: Sample;
  durationSec: number;
  testCpu: NodeJS.CpuUsage;
  /** The test's own INFO commands during the run, excluded from the Redis figures. */
  testCommands: number;
  before: Counters;
  after: Counters;
}

/** CPU per question, over the whole run and after warm-up. */
export function cpuSection(m: Measured, claude: boolean, warmup: number): Record<string, unknown> {
  const start0 = m.samples[0]!;
  const warm = m.samples.find((s) => s.progress >= warmup) ?? start0;
  const cpuAll = cpuBetween(start0, m.end, claude);
  const cpuSteady = cpuBetween(warm, m.end, claude);
  const steadyQuestions = Math.round((m.end.progress - warm.progress) * m.questions);
  return {
    note: "utime+stime deltas from /proc/<pid>/stat; claudeCode = the consumer's descendants, live and reaped",
    msPerQuestion: msPer(cpuAll, m.questions),
    msPerQuestionAfterWarmup: msPer(cpuSteady, steadyQuestions),
    cpuSec: Object.fromEntries(Object.entries(cpuAll).map(([k, v]) => [k, round(v, 2)])),
    testProcessCpuSec: round((m.testCpu.user + m.testCpu.system) / 1e6, 2),
    testProcessNote: claude ? 'the test: inserts, counting, sampling, and the fake Anthropic API' : 'the test: inserts, counting, sampling',
  };
}

/** Redis commands per question, the test's own INFO commands excluded. */
export function redisSection(m: Measured): Record<string, unknown> {
  const n = m.questions;
  const commands = u32Delta(m.before.redis.total, m.after.redis.total) - m.testCommands;
  const perCommand = commandStatsDelta(m.before.redis.stats, m.after.redis.stats)
    .map((s) => (s.command === 'info' ? { ...s, calls: s.calls - m.testCommands } : s))
    .filter((s) => s.calls > 0);
  const scriptCalls = perCommand.filter((s) => s.command === 'evalsha' || s.command === 'eval').reduce((sum, s) => sum + s.calls, 0);
  return {
    note: "total_commands_processed delta: since Redis 7 also the commands run inside Lua scripts; the test's own INFO commands excluded",
    commands,
    commandsPerQuestion: round(commands / n, 2),
    scriptCallsPerQuestion: round(scriptCalls / n, 2),
    top: perCommand.slice(0, 15).map((s) => ({ command: s.command, calls: s.calls, perQuestion: round(s.calls / n, 3), usecPerQuestion: round(s.usec / n, 2) })),
  };
}

/** SQLite commits and rows written per question, the asker's own commits subtracted. */
export function sqliteSection(m: Measured): Record<string, unknown> {
  const n = m.questions;
  const { wal: walBefore } = m.before;
  const { wal: walAfter } = m.after;
  const rows = Object.fromEntries(Object.keys(m.after.writes).map((k) => [k, (m.after.writes[k] ?? 0) - (m.before.writes[k] ?? 0)]));
  const rowsTotal = Object.values(rows).reduce((s, v) => s + v, 0);
  const commitsAll = walBefore && walAfter ? u32Delta(walBefore.iChange, walAfter.iChange) : null;
  const autopollCommits = commitsAll === null ? null : commitsAll - m.asker.commits;
  const takeCommits = rows.audit_get_messages ?? 0;
  return {
    note:
      "commits = delta of the WAL-index iChange counter (one per commit that wrote, any connection) minus the test's insert transactions; take commits = get_messages audit rows (one per take, one conversation); the rest are answer batches and heartbeats; synchronous=NORMAL, so a commit is a WAL append without fsync",
    commits: autopollCommits,
    commitsPerQuestion: autopollCommits === null ? null : round(autopollCommits / n, 4),
    takeCommits,
    answerAndHeartbeatCommits: autopollCommits === null ? null : autopollCommits - takeCommits,
    questionsPerCommit: autopollCommits ? round(n / autopollCommits, 1) : null,
    testCommits: m.asker.commits,
    rowsWritten: rows,
    rowsWrittenPerQuestion: round(rowsTotal / n, 3),
    walRestarts: walBefore && walAfter ? u32Delta(walBefore.salt1, walAfter.salt1) : null,
    walIndex: { before: walBefore ?? null, after: walAfter ?? null } satisfies Record<string, WalIndexHeader | null>,
  };
}

/** How the judged and the shown metrics grew, and the whole timeline. */
export function resourcesSection(
  m: Measured,
  growth: { judged: Growth[]; shown: Growth[]; options: GrowthOptions; limit: number; sampleEveryMs: number },
  processes: { producer: AutopollProcess & { gc: GcEvent[] }; consumer: AutopollProcess & { gc: GcEvent[] } },
): Record<string, unknown> {
  const o = growth.options;
  return {
    statistic: `median of the samples taken while ${o.window * 100}% of the questions were answered, the last window against the first after a warm-up of ${o.warmup * 100}%; growth = (last - first) / first`,
    limit: growth.limit,
    judgedMemory:
      'producer and consumer: heldRssKb = RSS - V8 committed heap + live heap after the latest full collection (node --trace-gc), as V8 sizes its committed heap from the load; redis-server and Claude Code (descRssKb, the sum over the sessions): RSS',
    sampleEveryMs: growth.sampleEveryMs,
    samples: m.samples.length,
    fullCollections: { producer: processes.producer.gc.filter((e) => e.full).length, consumer: processes.consumer.gc.filter((e) => e.full).length },
    growth: [...growth.judged.map((g) => growthRow(g, true)), ...growth.shown.map((g) => growthRow(g, false))],
    timeline: m.samples.map((s) => ({ t: s.t, progress: round(s.progress, 4), ...Object.fromEntries(Object.entries(s.values).map(([k, v]) => [k, round(v, 2)])) })),
  };
}
