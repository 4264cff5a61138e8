/**
 * bench/REPORT.md as a pure function of the results objects (bench/results/*.json), the machine
 * and versions, and the chart files written beside it. Every figure comes from the results; the
 * words around them are fixed.
 */
import type { ClaudeResult, PhaseResult } from '../claude.js';
import type { PipelineResult, ScenarioResult } from '../pipeline.js';
import type { ScaleResult, ScalePhase } from '../scale.js';
import type { Distribution } from '../numbers.js';
import type { ChartName } from './charts.js';
import type { BenchEnvironment } from './environment.js';
import { num, scenarioLabel, soakPhaseLabel } from './labels.js';
import { readSoak, type SoakGrowth, type SoakPhase } from './soak.js';

/** What `npm run bench` adds to each results file. */
export interface RunInfo {
  finishedAt?: string;
  environment?: BenchEnvironment;
}

export interface ReportInput {
  /** When the report was written (ISO). */
  generatedAt: string;
  /** The command that wrote it. */
  command: string;
  /** The machine and versions shown, and where they come from (recorded by a run, or collected when the report was written). */
  environment: BenchEnvironment | null;
  environmentFrom: string;
  pipeline: (PipelineResult & RunInfo) | null;
  claude: (ClaudeResult & RunInfo) | null;
  scale: (ScaleResult & RunInfo) | null;
  /** bench/results/soak.json as parsed, null when absent. */
  soak: unknown;
  /** The charts written, as links relative to REPORT.md. */
  charts: Partial<Record<ChartName, string>>;
}

export const SOAK_ABSENT = 'not measured in this run: run `npm run test:chaos` (soak)';

const notRun = (name: string) => `not measured in this run: run \`npm run bench -- ${name}\``;
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

function mdTable(rows: string[][]): string {
  const cell = (c: string) => c.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const line = (r: string[]) => `| ${r.map(cell).join(' | ')} |`;
  return [line(rows[0]!), `|${rows[0]!.map(() => '---').join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

const chart = (input: ReportInput, name: ChartName, alt: string) => (input.charts[name] ? [`![${alt}](${input.charts[name]})`, ''] : []);

/** `2026-11-22 05:51 UTC` from an ISO time. */
function when(iso: string | undefined | null): string {
  if (!iso) return '-';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function commitOf(env: BenchEnvironment | undefined | null): string {
  const a = env?.versions.autopoll;
  if (!a?.commit) return '-';
  return `\`${a.commit.slice(0, 12)}\`${a.dirty ? ' + uncommitted changes' : ''}`;
}

/** `2.1.330` from `claude --version`'s `2.1.330 (Claude Code)`. */
const claudeVersion = (v: string | null | undefined) => v?.replace(/\s*\(Claude Code\)$/, '') ?? null;
const ms = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '-' : `${num(v, digits)} ms`);
const p50p99 = (d: Distribution | null | undefined) => (d ? `${num(d.p50, 1)} / ${num(d.p99, 1)} ms` : '-');

/**
 * CPU of everything else on the machine over a measurement, % of one core: the machine's less the
 * processes measured (the bench's own included). Other work running meanwhile shows here, and the
 * figures measured beside it are lower than a quiet machine's.
 */
function otherCpu(cpu: Record<string, { percentOfOneCore: number } | null>): number | null {
  const machine = cpu.machine?.percentOfOneCore;
  if (machine === undefined) return null;
  const ours = Object.entries(cpu).filter(([who]) => who !== 'machine').reduce((sum, [, use]) => sum + (use?.percentOfOneCore ?? 0), 0);
  return Math.max(0, machine - ours);
}

/** A sentence on a run's log lines at warn or error, with their distinct first messages; null when there were none. */
function logNote(what: string, counts: string, total: number, first: string[]): string | null {
  if (total === 0) return null;
  const messages = [...new Set(first)].map((m) => `\`${m}\``).join(', ');
  return `Log lines at warn / error during ${what}: ${counts}${messages ? `; first: ${messages}` : ''}.`;
}

const percent = (v: number | null) => (v === null ? '-' : `${num(v)}%`);

// ---------------------------------------------------------------- pipeline

/** Producer + consumer + redis-server CPU over the median throughput run, µs per answered question. */
function cpuPerQuestionUs(s: ScenarioResult): number | null {
  const c = s.throughput.cpu;
  const parts = ['producer', 'consumer', 'redis'].map((k) => c[k]?.cpuSec);
  if (!s.throughput.answered || parts.some((p) => p === undefined)) return null;
  return (parts.reduce((a, b) => a! + b!, 0)! / s.throughput.answered) * 1e6;
}

function pipelineOk(r: PipelineResult, s: ScenarioResult): { throughput: boolean; pickup: boolean } {
  const t = r.targets;
  const old = s.oldMessages > 0 && r.oldVsEmpty;
  return {
    throughput: s.throughput.questionsPerSec >= t.throughputQps && (!old || r.oldVsEmpty!.throughputSlowdown <= t.oldMessagesFactor),
    pickup: (s.latency.pickupMs?.p50 ?? Infinity) < t.pickupP50Ms && (!old || (r.oldVsEmpty!.pickupP50Factor ?? Infinity) <= t.oldMessagesFactor),
  };
}

function pipelineSummary(r: PipelineResult): string[][] {
  const t = r.targets;
  return r.scenarios.flatMap((s) => {
    const ok = pipelineOk(r, s);
    const old = s.oldMessages > 0 && r.oldVsEmpty;
    return [
      [
        `end-to-end throughput, ${scenarioLabel(s)}`,
        `${num(s.throughput.questionsPerSec)} q/s${old ? ` (${r.oldVsEmpty!.throughputSlowdown}x the empty bridge's time per question)` : ''}`,
        `>= ${num(t.throughputQps)} q/s${old ? `; within ${t.oldMessagesFactor}x` : ''}`,
        verdict(ok.throughput),
      ],
      [
        `pickup latency p50 / p99, ${scenarioLabel(s)}`,
        `${p50p99(s.latency.pickupMs)}${old && r.oldVsEmpty!.pickupP50Factor !== null ? ` (p50 ${r.oldVsEmpty!.pickupP50Factor}x)` : ''}`,
        `p50 < ${t.pickupP50Ms} ms${old ? `; within ${t.oldMessagesFactor}x` : ''}`,
        verdict(ok.pickup),
      ],
    ];
  });
}

function pipelineSection(input: ReportInput, r: PipelineResult): string[] {
  const c = r.config;
  const out: string[] = [];
  out.push(
    `Real processes: a private \`redis-server\`, the built \`producer\` and \`consumer --answerer stub --sessions ${c.sessions}\`, and a bridge file the bench writes as side \`a\`. ` +
      `Throughput: ${num(c.throughputN)} questions inserted as fast as the bench can (${c.insertBatch} to a transaction), first insert -> last answer row; ` +
      `${c.throughputRepeat} run${c.throughputRepeat === 1 ? '' : 's'} per scenario, the median shown. ` +
      `Pickup latency: ${c.latencyN} questions one every ~${c.latencyGapMs} ms, bridge commit -> BullMQ job active. Method: [README.md#pipeline](README.md#pipeline).`,
    '',
  );
  const scen = r.scenarios;
  const row = (label: string, f: (s: ScenarioResult) => string, target = '') => [label, ...scen.map(f), target];
  const t = r.targets;
  const rows: string[][] = [
    ['', ...scen.map(scenarioLabel), 'target'],
    row(`throughput, median of ${c.throughputRepeat}`, (s) => `${num(s.throughput.questionsPerSec)} q/s`, `>= ${num(t.throughputQps)} q/s`),
    row('  every run', (s) => s.throughputRuns.map((x) => num(x.questionsPerSec)).join(', ')),
    row('  answered / asked (median run)', (s) => `${num(s.throughput.answered)} / ${num(s.throughput.n)}${s.throughput.timedOut ? ' (timed out)' : ''}`),
    row('  inserts / last answer done after', (s) => `${s.throughput.insertSec} / ${s.throughput.totalSec} s`),
    row('  CPU per question (producer + consumer + Redis)', (s) => (cpuPerQuestionUs(s) === null ? '-' : `${num(cpuPerQuestionUs(s))} µs`)),
    row('  CPU of the machine, % of one core', (s) => percent(s.throughput.cpu.machine?.percentOfOneCore ?? null), input.environment ? `of ${input.environment.machine.cores * 100}%` : ''),
    row('  of it, producer + consumer + Redis / the bench', (s) => {
      const c = s.throughput.cpu;
      const ours = ['producer', 'consumer', 'redis'].reduce((sum, k) => sum + (c[k]?.percentOfOneCore ?? 0), 0);
      return `${num(ours)}% / ${percent(c.bench?.percentOfOneCore ?? null)}`;
    }),
    row('  of it, other work on the machine', (s) => percent(otherCpu(s.throughput.cpu))),
    row('pickup latency p50 / p99', (s) => p50p99(s.latency.pickupMs), `p50 < ${t.pickupP50Ms} ms`),
    row('  p90 / max', (s) => (s.latency.pickupMs ? `${num(s.latency.pickupMs.p90, 1)} / ${num(s.latency.pickupMs.max, 1)} ms` : '-')),
    row('  commit -> job added p50 / p99', (s) => p50p99(s.latency.insertToEnqueuedMs)),
    row('  job added -> active p50 / p99', (s) => p50p99(s.latency.enqueuedToActiveMs)),
    row('  commit -> answer row p50 / p99', (s) => p50p99(s.latency.insertToAnswerMs)),
    row('producer ready after (start-up)', (s) => `${s.producerReadySec} s`),
    row('every question answered once', (s) => {
      const k = s.check;
      const once = k.responseRows === k.asked && k.distinctQueryIds === k.asked && k.answeredTwice === 0;
      return `${once ? 'yes' : '**no**'}: ${num(k.responseRows)} answers, ${num(k.distinctQueryIds)} distinct, ${num(k.asked)} asked`;
    }),
  ];
  if (r.oldVsEmpty) {
    const o = r.oldVsEmpty;
    rows.push(['old vs empty (> 1 is worse)', '', `time per question ${o.throughputSlowdown}x, pickup p50 ${o.pickupP50Factor ?? '-'}x, p99 ${o.pickupP99Factor ?? '-'}x`, `within ${t.oldMessagesFactor}x`]);
  }
  out.push(mdTable(rows), '');
  const negatives = scen.filter((s) => s.latency.negativeSamples > 0);
  if (negatives.length) {
    out.push(
      `Pickup samples below zero (the producer ran before the bench read its clock after the insert): ${negatives.map((s) => `${s.latency.negativeSamples} of ${s.latency.n} (${scenarioLabel(s)})`).join(', ')}.`,
      '',
    );
  }
  for (const s of scen) {
    const l = s.logLines;
    const note = logNote(`the ${scenarioLabel(s)} scenario`, `producer ${l.producerWarnings} / ${l.producerErrors}, consumer ${l.consumerWarnings} / ${l.consumerErrors}`, l.producerWarnings + l.producerErrors + l.consumerWarnings + l.consumerErrors, l.first);
    if (note) out.push(note, '');
  }
  out.push(...chart(input, 'pipeline-throughput', 'throughput by scenario'), ...chart(input, 'pipeline-latency', 'pickup latency histogram'));
  return out;
}

// ---------------------------------------------------------------- claude

const phaseName = (p: PhaseResult) => (p.sessions === null ? 'one `claude -p` per question' : `pool, ${p.sessions} session${p.sessions === 1 ? '' : 's'}`);
const claudeOk = (p: PhaseResult) => p.target !== null && (p.speedup ?? 0) >= p.target;

function claudeSummary(r: ClaudeResult): string[][] {
  return r.phases.map((p) => [
    `seconds per question through Claude Code, ${phaseName(p)}`,
    `${num(p.secPerQuestion, 4)} s${p.speedup ? ` (${p.speedup}x)` : ''}`,
    p.target ? `>= ${p.target}x the baseline` : p.sessions === null ? 'baseline' : '',
    p.target ? verdict(claudeOk(p)) : '',
  ]);
}

function claudeSection(input: ReportInput, r: ClaudeResult): string[] {
  const out: string[] = [];
  out.push(
    `The real Claude Code binary (${claudeVersion(r.binary.version) ?? 'version unknown'}) against a fake Anthropic API on loopback with no latency, so what is measured is Claude Code's own cost per question; ` +
      `model \`${r.config.model}\`, the same prompt and system prompt for every process. Baseline: one \`claude -p\` process per question, serially. ` +
      `Pool: \`ClaudeAnswerer\`, as many questions in flight as sessions, a session recycled every ${r.config.maxTurnsPerSession} turns; its start is not timed. ` +
      `Seconds per question = wall time / questions done. Method: [README.md#claude](README.md#claude).`,
    '',
  );
  const phases = r.phases;
  const row = (label: string, f: (p: PhaseResult) => string) => [label, ...phases.map(f)];
  const rows: string[][] = [
    ['', ...phases.map(phaseName)],
    row('seconds per question', (p) => `${num(p.secPerQuestion, 4)} s`),
    row('speed-up over the baseline', (p) => (p.sessions === null ? '1x' : `${p.speedup ?? '-'}x`)),
    row('target', (p) => (p.target ? `>= ${p.target}x: ${verdict(claudeOk(p))}` : '')),
    row('questions done / planned', (p) => `${p.done} / ${p.planned}${p.stoppedBy ? ` (stopped by its ${p.stoppedBy})` : ''}`),
    row('answered right / failed', (p) => `${p.answered} / ${p.failed}`),
    row('per question p50 / p99', (p) => p50p99(p.questionMs)),
    row('Claude Code CPU per question', (p) => ms(p.cpu.claudeMsPerQuestion)),
    row('machine CPU per question', (p) => ms(p.cpu.machineMsPerQuestion)),
    row('CPU of other work on the machine, % of one core', (p) => percent(otherCpu({ machine: p.cpu.machine, claude: p.cpu.claude, bench: p.cpu.bench }))),
    row('API requests per question', (p) => num(p.api.messagesPerQuestion, 2)),
  ];
  out.push(mdTable(rows), '');
  for (const p of phases) {
    const note = logNote(`the ${phaseName(p)} phase`, `${p.logWarnings} / ${p.logErrors}`, p.logWarnings + p.logErrors, p.notable);
    if (note) out.push(note, '');
  }
  if (r.leftoverProcesses) out.push(`${r.leftoverProcesses} Claude Code process(es) were still running at the end (killed).`, '');
  out.push(...chart(input, 'claude', 'seconds per question, baseline vs pool'));
  return out;
}

// ---------------------------------------------------------------- scale

/** Every question answered exactly once, every job run once, none failed. */
function answeredOnce(p: ScalePhase): boolean {
  const c = p.check;
  return c.responseRows === p.asked && c.distinctQueryIds === p.asked && c.answeredTwice === 0 && p.jobs.failed === 0 && p.jobs.startedMoreThanOnce === 0;
}

function largestEfficiency(r: ScaleResult): { consumers: number; efficiency: number } | null {
  return r.efficiency.length ? r.efficiency.reduce((a, b) => (b.consumers > a.consumers ? b : a)) : null;
}

function scaleSummary(r: ScaleResult): string[][] {
  const e = largestEfficiency(r);
  const p = r.phases.find((x) => x.consumers === e?.consumers);
  if (!e || !p) return [];
  return [
    [
      `scale-out efficiency at ${e.consumers} consumers`,
      `${e.efficiency.toFixed(2)} (${p.questionsPerSec.toFixed(2)} of ${p.idealQps} q/s ideal)`,
      `>= ${r.targets.efficiency}`,
      verdict(e.efficiency >= r.targets.efficiency),
    ],
    ['every question answered exactly once (scale-out)', r.phases.every(answeredOnce) ? 'yes' : '**no**', 'yes', verdict(r.phases.every(answeredOnce))],
  ];
}

function scaleSection(input: ReportInput, r: ScaleResult): string[] {
  const c = r.config;
  const out: string[] = [];
  out.push(
    `One producer, a private \`redis-server\`, and per phase N \`consumer --answerer stub --stub-latency-ms ${c.stubLatencyMs} --sessions ${c.sessionsPerConsumer}\` processes; ` +
      `the bridge is kept topped up so the queue never runs dry; answers counted in a ${c.windowSec} s window after a ${c.warmupSec} s warm-up. ` +
      `Ideal = sessions x 1000 / ${c.stubLatencyMs} q/s; efficiency = throughput / (consumers x one consumer's throughput); ` +
      `min waiting: fewest questions waiting in Redis in the window (0 = ran dry); CPU other work: what processes other than the benchmark's used in the window, % of one core. Method: [README.md#scale](README.md#scale).`,
    '',
  );
  const rows: string[][] = [['consumers', 'sessions', 'throughput', 'ideal', 'of ideal', 'efficiency', 'answered per consumer (window)', 'min waiting', 'CPU other work', 'answered once']];
  for (const [i, p] of r.phases.entries()) {
    rows.push([
      String(p.consumers),
      String(p.sessionsTotal),
      `${p.questionsPerSec.toFixed(2)} q/s`,
      `${p.idealQps} q/s`,
      `${Math.round((p.questionsPerSec / p.idealQps) * 100)}%`,
      r.efficiency[i]?.efficiency.toFixed(2) ?? '-',
      Object.entries(p.perConsumer).map(([name, n]) => `${name} ${n.window}`).join(', '),
      String(p.queue.minWaiting),
      percent(otherCpu(p.cpu)),
      `${answeredOnce(p) ? 'yes' : '**no**'} (${p.check.responseRows}/${p.asked})`,
    ]);
  }
  out.push(mdTable(rows), '');
  const e = largestEfficiency(r);
  if (e) out.push(`Efficiency at ${e.consumers} consumers: ${e.efficiency.toFixed(2)} (target >= ${r.targets.efficiency}, ${verdict(e.efficiency >= r.targets.efficiency)}).`, '');
  for (const p of r.phases) {
    const note = logNote(`the ${p.consumers}-consumer phase`, `${p.logLines.warnings} / ${p.logLines.errors}`, p.logLines.warnings + p.logLines.errors, p.logLines.first);
    if (note) out.push(note, '');
  }
  out.push(...chart(input, 'scale', 'scale-out throughput, measured vs ideal'));
  return out;
}

// ---------------------------------------------------------------- soak

/** Growth in percent; `infinite` (from 0 to more) is Infinity; null when not judged (too few samples). */
const growthValue = (g: SoakGrowth) => (typeof g.growthPercent === 'string' ? Infinity : g.growthPercent);
/** Whether a judged growth figure is above the limit (a fraction); null when either is unknown; false when not judged. */
const grewTooMuch = (g: SoakGrowth, limit: number | null) => (!g.judged ? false : growthValue(g) === null || limit === null ? null : growthValue(g)! > limit * 100);
const growthText = (g: SoakGrowth) => (g.growthPercent === null ? 'not judged (too few samples)' : typeof g.growthPercent === 'string' ? g.growthPercent : `${g.growthPercent > 0 ? '+' : ''}${num(g.growthPercent, 1)}%`);

function soakSummary(raw: unknown): string[][] {
  const s = raw === null || raw === undefined ? null : readSoak(raw);
  if (!s || s.phases.length === 0) return [['resource use per question (soak)', SOAK_ABSENT, '', '']];
  const rows = s.phases.map((p) => [
    `resource use per question, soak (${soakPhaseLabel(p)})`,
    `CPU ${num(p.cpuMs.total, 3)} ms, ${num(p.redisCommands, 2)} Redis commands, ${num(p.sqliteCommits, 4)} SQLite commits (${num(p.sqliteRowsWritten, 3)} rows written)`,
    '',
    '',
  ]);
  const judged = s.phases.flatMap((p) => p.growth.filter((g) => g.judged).map((g) => ({ p, g, over: grewTooMuch(g, p.growthLimit) })));
  if (judged.length) {
    const worst = judged.filter((j) => growthValue(j.g) !== null).sort((a, b) => growthValue(b.g)! - growthValue(a.g)!)[0];
    const limits = [...new Set(s.phases.map((p) => p.growthLimit).filter((l) => l !== null))].map((l) => `<= ${num(l! * 100)}%`).join(', ');
    rows.push([
      'resource growth after warm-up (soak: RSS, descriptors, processes)',
      worst ? `largest: ${worst.g.metric} ${growthText(worst.g)} (${soakPhaseLabel(worst.p)})` : 'not judged (too few samples)',
      limits,
      worst ? `${verdict(!judged.some((j) => j.over))}${judged.some((j) => j.over === null) ? ` (${judged.filter((j) => j.over === null).length} not judged)` : ''}` : '',
    ]);
  }
  return rows;
}

function soakSection(input: ReportInput): string[] {
  const out = ['## Resource use per question (soak)', ''];
  const s = input.soak === null || input.soak === undefined ? null : readSoak(input.soak);
  if (!s || s.phases.length === 0) return [...out, `${SOAK_ABSENT}; it writes \`bench/results/soak.json\`, then \`npm run bench:report\` adds it here.`, ''];
  const phases = s.phases;
  out.push(
    `From \`bench/results/soak.json\` (${when(s.date)}), written by the soak of \`npm run test:chaos\` (test/chaos/soak.chaos.test.ts): a long steady run through real processes, ` +
      'each phase on its own redis-server and bridge file. CPU: utime + stime of the producer, the consumer, its Claude Code sessions and redis-server; ' +
      'Redis commands: `total_commands_processed` (with the commands BullMQ\'s Lua scripts run); SQLite commits: the WAL-index change counter, less the test\'s own inserts.',
    '',
  );
  const row = (label: string, f: (p: SoakPhase) => string) => [label, ...phases.map(f)];
  const byProcess = (m: Record<string, number>) => Object.entries(m).filter(([k]) => k !== 'total').map(([k, v]) => `${k} ${num(v, 3)}`).join(', ') || '-';
  out.push(
    mdTable([
      ['per question', ...phases.map(soakPhaseLabel)],
      row('questions, duration', (p) => `${num(p.questions)} in ${num(p.durationSec, 1)} s (${num(p.questionsPerSec, 1)} q/s)`),
      row('CPU, total', (p) => ms(p.cpuMs.total, 3)),
      row('  by process', (p) => byProcess(p.cpuMs)),
      row('  after warm-up, total', (p) => ms(p.cpuMsAfterWarmup.total, 3)),
      row('Redis commands', (p) => `${num(p.redisCommands, 2)}${p.redisScriptCalls !== null ? ` (${num(p.redisScriptCalls, 2)} Lua script calls)` : ''}`),
      row('SQLite commits', (p) => num(p.sqliteCommits, 4)),
      row('SQLite rows written', (p) => num(p.sqliteRowsWritten, 3)),
      row('answered exactly once', (p) => (p.check ? `${p.check.notOnce === 0 && p.check.asked === p.check.responseRows ? 'yes' : '**no**'} (${num(p.check.responseRows)} answers, ${num(p.check.asked)} asked)` : '-')),
    ]),
    '',
    ...chart(input, 'soak-cpu', 'CPU per question by process, soak'),
  );
  const growth = phases.flatMap((p) => p.growth.map((g) => ({ p, g })));
  if (growth.length === 0) return [...out, 'The soak recorded no resource-growth figures.', ''];
  const statistic = phases.find((p) => p.growthStatistic)?.growthStatistic;
  const judgedMemory = phases.find((p) => p.judgedMemory)?.judgedMemory;
  out.push(
    `Resource growth after warm-up${statistic ? ` (${statistic})` : ''}:`,
    '',
    mdTable([
      ['phase', 'metric', 'first', 'last', 'growth', 'limit'],
      ...growth.map(({ p, g }) => {
        const over = grewTooMuch(g, p.growthLimit);
        const limit = !g.judged ? 'shown, not judged' : p.growthLimit === null ? '-' : `<= ${num(p.growthLimit * 100)}%`;
        return [soakPhaseLabel(p), g.metric, num(g.first), num(g.last), `${growthText(g)}${over ? ' **over**' : ''}`, limit];
      }),
    ]),
    '',
    ...(judgedMemory ? [`Memory judged: ${judgedMemory}.`, ''] : []),
  );
  return out;
}

// ---------------------------------------------------------------- the report

function environmentSection(input: ReportInput): string[] {
  const e = input.environment;
  const out = ['## Machine and versions', ''];
  if (!e) return [...out, 'Unknown: no results file recorded it.', ''];
  const m = e.machine;
  const v = e.versions;
  const claudeBinary = claudeVersion(input.claude?.binary.version ?? v.claudeCode);
  out.push(
    mdTable([
      ['', ''],
      ['CPU', `${m.cpuModel}, ${m.cores} cores`],
      ['memory', `${num(m.memoryGiB, 1)} GiB`],
      ['OS, kernel', `${m.os}, ${m.kernel} (${m.arch})`],
      ['load average at the start (1, 5, 15 min)', e.loadAverage?.length ? e.loadAverage.join(', ') : '-'],
      ['node', v.node],
      ['redis-server', v.redisServer ?? '-'],
      ['Claude Code', claudeBinary ?? '-'],
      ['bullmq', v.bullmq ?? '-'],
      ['better-sqlite3', `${v.betterSqlite3 ?? '-'}${v.sqlite ? ` (SQLite ${v.sqlite})` : ''}`],
      ['autopoll', `${v.autopoll.version ?? '-'}, commit ${commitOf(e)}`],
    ]),
    '',
    `${input.environmentFrom}.`,
    '',
  );
  const runs: Array<[string, RunInfo | null, string]> = [
    ['pipeline', input.pipeline, input.pipeline ? `${num(input.pipeline.config.throughputN)} questions x ${input.pipeline.config.throughputRepeat} run${input.pipeline.config.throughputRepeat === 1 ? '' : 's'}, ${input.pipeline.config.latencyN} latency questions, ${num(input.pipeline.config.oldMessages)} old messages` : ''],
    ['claude', input.claude, input.claude ? `${input.claude.config.n} questions per pool phase (baseline ${input.claude.config.baselineN}), pools of ${input.claude.config.pools.join(', ')}` : ''],
    ['scale', input.scale, input.scale ? `${input.scale.config.consumers.join(', ')} consumers, ${input.scale.config.windowSec} s windows` : ''],
  ];
  out.push(
    mdTable([
      ['benchmark', 'finished', 'autopoll commit', 'settings'],
      ...runs.map(([name, run, settings]) => (run ? [name, when(run.finishedAt), commitOf(run.environment), settings] : [name, 'not run', '-', '-'])),
    ]),
    '',
  );
  return out;
}

/** A benchmark's section: its heading, then its body, or how to measure it when its results are absent. */
function section(title: string, benchmark: string, body: string[] | null): string[] {
  return [`## ${title}`, '', ...(body ?? [notRun(benchmark), ''])];
}

/** One line on the other work the machine did while each benchmark measured, from the CPU figures. */
function otherWork(input: ReportInput): string | null {
  const parts: string[] = [];
  for (const s of input.pipeline?.scenarios ?? []) parts.push(`pipeline throughput (${scenarioLabel(s)}) ${percent(otherCpu(s.throughput.cpu))}`);
  for (const p of input.claude?.phases ?? []) parts.push(`Claude Code (${phaseName(p)}) ${percent(otherCpu({ machine: p.cpu.machine, claude: p.cpu.claude, bench: p.cpu.bench }))}`);
  for (const p of input.scale?.phases ?? []) parts.push(`scale-out (${p.consumers}) ${percent(otherCpu(p.cpu))}`);
  if (parts.length === 0) return null;
  const cores = input.environment ? ` of ${input.environment.machine.cores * 100}%` : '';
  return `CPU used by other work on the machine while each benchmark measured (the machine's less the benchmark's own processes, % of one core${cores}): ${parts.join(', ')}. ` +
    'Where it is high, the figures beside it are lower than a quiet machine would give.';
}

export function renderReport(input: ReportInput): string {
  const summary: string[][] = [
    ['figure', 'measured', 'target', ''],
    ...(input.pipeline ? pipelineSummary(input.pipeline) : [['pipeline', notRun('pipeline'), '', '']]),
    ...(input.claude ? claudeSummary(input.claude) : [['Claude Code', notRun('claude'), '', '']]),
    ...(input.scale ? scaleSummary(input.scale) : [['scale-out', notRun('scale'), '', '']]),
    ...soakSummary(input.soak),
  ];
  const lines = [
    '# autopoll benchmark report',
    '',
    `Written by \`${input.command}\` on ${when(input.generatedAt)} from \`bench/results/*.json\`: every figure below is read from those files, measured by the run that wrote them ` +
      '(`npm run bench` runs the benchmarks, then writes this report; `npm run bench:report` writes it again from the results files without running anything). ' +
      'Methods, knobs and caveats: [README.md](README.md).',
    '',
    '## Summary',
    '',
    mdTable(summary),
    '',
    ...(otherWork(input) ? [otherWork(input)!, ''] : []),
    ...environmentSection(input),
    ...section('Pipeline: bridge -> producer -> Redis -> consumer -> bridge', 'pipeline', input.pipeline?.scenarios.length ? pipelineSection(input, input.pipeline) : null),
    ...section('Claude Code: persistent pool vs one `claude -p` per question', 'claude', input.claude?.phases.length ? claudeSection(input, input.claude) : null),
    ...section('Scale-out: 1, 2, 4 consumer processes', 'scale', input.scale?.phases.length ? scaleSection(input, input.scale) : null),
    ...soakSection(input),
  ];
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
