/**
 * Reads bench/results/soak.json, written by the soak of `npm run test:chaos`
 * (test/chaos/soak.chaos.test.ts): `{ benchmark: 'soak', date, machine, phases: { stub, claude } }`,
 * each phase with `cpu.msPerQuestion` (by process and `total`), `redis.commandsPerQuestion`,
 * `sqlite.commitsPerQuestion` and `rowsWrittenPerQuestion`, and `resources.growth` (first and last
 * window's medians of each metric, the growth in percent, the limit as a fraction). That file has
 * its own owner, so it is read leniently: what is missing or of another type shows as absent.
 */

export interface SoakGrowth {
  metric: string;
  first: number | null;
  last: number | null;
  /** Percent; a string (`infinite`) when the first window's median was 0 and the last one's was not. */
  growthPercent: number | string | null;
  /** Held to the limit; the rest are shown beside them (raw RSS and V8 heap of the Node processes). */
  judged: boolean;
}

export interface SoakPhase {
  name: string;
  date: string | null;
  questions: number | null;
  durationSec: number | null;
  questionsPerSec: number | null;
  /** CPU ms per question by process (`total` among them), over the whole phase and after warm-up. */
  cpuMs: Record<string, number>;
  cpuMsAfterWarmup: Record<string, number>;
  redisCommands: number | null;
  redisScriptCalls: number | null;
  sqliteCommits: number | null;
  sqliteRowsWritten: number | null;
  growth: SoakGrowth[];
  /** The growth allowed after warm-up, a fraction (0.1 = 10%). */
  growthLimit: number | null;
  growthStatistic: string | null;
  /** Which memory figure is held to the limit, and why. */
  judgedMemory: string | null;
  /** Questions asked and answer rows, and how many were not answered exactly once. */
  check: { asked: number | null; responseRows: number | null; notOnce: number | null } | null;
}

export interface SoakSummary {
  date: string | null;
  phases: SoakPhase[];
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const number = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const string = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const record = (v: unknown): Json => (isRecord(v) ? v : {});

/** The numbers of an object, by key. */
function numbers(v: unknown): Record<string, number> {
  return Object.fromEntries(Object.entries(record(v)).filter((e): e is [string, number] => number(e[1]) !== null));
}

function readPhase(name: string, p: Json): SoakPhase {
  const cpu = record(p.cpu);
  const redis = record(p.redis);
  const sqlite = record(p.sqlite);
  const resources = record(p.resources);
  const check = isRecord(p.check) ? p.check : null;
  return {
    name: string(p.phase) ?? name,
    date: string(p.date),
    questions: number(p.questions),
    durationSec: number(p.durationSec),
    questionsPerSec: number(p.questionsPerSec),
    cpuMs: numbers(cpu.msPerQuestion),
    cpuMsAfterWarmup: numbers(cpu.msPerQuestionAfterWarmup),
    redisCommands: number(redis.commandsPerQuestion),
    redisScriptCalls: number(redis.scriptCallsPerQuestion),
    sqliteCommits: number(sqlite.commitsPerQuestion),
    sqliteRowsWritten: number(sqlite.rowsWrittenPerQuestion),
    growth: (Array.isArray(resources.growth) ? resources.growth : []).filter(isRecord).map((g) => ({
      metric: string(g.metric) ?? '?',
      first: number(g.first),
      last: number(g.last),
      growthPercent: number(g.growthPercent) ?? string(g.growthPercent),
      judged: g.judged !== false,
    })),
    growthLimit: number(resources.limit),
    growthStatistic: string(resources.statistic),
    judgedMemory: string(resources.judgedMemory),
    check: check
      ? { asked: number(check.asked), responseRows: number(check.responseRows), notOnce: number(check.notOnceCount) ?? (Array.isArray(check.notOnce) ? check.notOnce.length : null) }
      : null,
  };
}

/** The soak's figures, phase by phase; null when the file is not a soak's. */
export function readSoak(raw: unknown): SoakSummary | null {
  if (!isRecord(raw) || !isRecord(raw.phases)) return null;
  const phases = Object.entries(raw.phases).filter((e): e is [string, Json] => isRecord(e[1])).map(([name, p]) => readPhase(name, p));
  return { date: string(raw.date), phases };
}
