/** The capacity benchmark in bench/REPORT.md: its summary rows and its section. */
import type { CapacityResult, CapacitySize, ShardComparison } from '../../capacity.js';
import { sizeAnsweredOnce } from '../../capacity/figures.js';
import { CPU_PARTS } from '../../capacity/hostMeter.js';
import { num } from '../labels.js';
import type { ReportInput } from '../markdown.js';
import { chart, logNote, mdTable, ms, p50p99, verdict } from './format.js';

const sizeOk = (s: CapacitySize) => s.target !== null && (s.speedup ?? 0) >= s.target;
const shardOk = (c: ShardComparison) => c.target !== null && (c.speedup ?? 0) >= c.target;
const latency = (ms: number) => (ms === 0 ? 'zero-latency API' : `${num(ms / 1000, 1)} s API latency`);

/** CPU of other work on the machine while a size was metered, % of one core. */
export function capacityOtherCpu(s: CapacitySize): number | null {
  const machine = s.cpuSec.machine;
  if (machine === null || s.meteredSec <= 0) return null;
  const ours = CPU_PARTS.filter((p) => p !== 'machine').reduce((sum, p) => sum + (s.cpuSec[p] ?? 0), 0);
  return Math.max(0, Math.round(((machine - ours) / s.meteredSec) * 100));
}

export function capacitySummary(r: CapacityResult): string[][] {
  const rows: string[][] = r.sizes.map((s) => [
    `throughput of one host, \`--sessions ${s.sessions}\`, ${latency(r.config.latencyMs)}`,
    `${num(s.questionsPerSec, 2)} q/s (${s.speedup ?? '-'}x the baseline; ideal ${s.idealQps === null ? '-' : `${num(s.idealQps, 2)} q/s`})`,
    s.target ? `>= ${s.target}x the baseline` : '',
    s.target ? verdict(sizeOk(s)) : '',
  ]);
  rows.push(['every question answered exactly once (capacity)', r.sizes.every(sizeAnsweredOnce) ? 'yes' : '**no**', 'yes', verdict(r.sizes.every(sizeAnsweredOnce))]);
  for (const c of r.shard) {
    rows.push([
      `vs the old shard, ${c.autopoll.questions} questions waiting, ${latency(c.latencyMs)}, \`--sessions ${c.sessions}\``,
      `${c.speedup ?? '-'}x (${num(c.replica.totalSec, 2)} s for ${c.replica.questions} vs ${num(c.autopoll.totalSec, 2)} s for ${c.autopoll.questions})`,
      c.target ? `>= ${c.target}x` : '',
      c.target ? verdict(shardOk(c)) : '',
    ]);
  }
  return rows;
}

export function capacitySection(input: ReportInput, r: CapacityResult): string[] {
  const c = r.config;
  const b = r.baseline;
  const out: string[] = [
    `One host as users run it: a private \`redis-server\`, \`producer\` and one \`consumer --sessions N\` of the built CLI with the real Claude Code binary, the fake Anthropic API answering after ${c.latencyMs} ms. ` +
      `Per size, ${c.questionsPerSession} questions a session are asked at once once every session is warm; throughput = questions / (first ask -> last answer row); per question = asked -> answer row. ` +
      `Baseline, at the same latency: one \`claude -p\` per question, serially (${b.done} questions, ${num(b.secPerQuestion, 2)} s each, ${num(b.questionsPerSec, 3)} q/s). ` +
      `Ideal = sessions / (latency + the per-question overhead measured with one session${r.overheadSec === null ? ', not measured in this run' : `, ${num(r.overheadSec, 3)} s`}). Method: [README.md#capacity](README.md#capacity).`,
    '',
  ];
  const rows: string[][] = [
    ['sessions', 'questions', 'throughput', 'ideal', 'speed-up over the baseline', 'per question p50 / p99', ...CPU_PARTS.map((p) => `CPU a question: ${p}`), 'RSS a session p50 / max', 'answered once'],
    ...r.sizes.map((s) => [
      String(s.sessions),
      String(s.questions),
      `${num(s.questionsPerSec, 2)} q/s`,
      s.idealQps === null ? '-' : `${num(s.idealQps, 2)} q/s`,
      `${s.speedup ?? '-'}x${s.target ? ` (>= ${s.target}x: ${verdict(sizeOk(s))})` : ''}`,
      p50p99(s.questionMs),
      ...CPU_PARTS.map((p) => ms(s.cpuMsPerQuestion[p], 0)),
      s.rssPerSessionMB ? `${num(s.rssPerSessionMB.p50, 0)} / ${num(s.rssPerSessionMB.max, 0)} MB` : '-',
      `${sizeAnsweredOnce(s) ? 'yes' : '**no**'} (${s.check.responseRows}/${s.questions})`,
    ]),
  ];
  out.push(mdTable(rows), '');
  out.push(
    'CPU a question by process: `consumer` is its node process, `claude` its Claude Code processes together, `bench` the benchmark itself (it serves the fake API), `machine` everything on the machine (other work included).',
    '',
  );
  for (const s of r.sizes) {
    const note = logNote(`the ${s.sessions}-session size`, `${s.logLines.warnings} / ${s.logLines.errors}`, s.logLines.warnings + s.logLines.errors, s.logLines.first);
    if (note) out.push(note, '');
  }
  out.push(...chart(input, 'capacity', 'throughput against sessions, measured vs ideal'));
  if (r.shard.length) {
    out.push(
      '### Against the old shard',
      '',
      'A replica of the shard autopoll replaced (`bench/seedShard.py`: every 5 s fetch the unread messages, one `claude -p` per question serially, then send), timed from its spawn to its last answer row, ' +
        `against autopoll with a warm \`consumer --sessions ${r.config.shardSessions}\`, timed from the producer's spawn (started with the questions waiting) to its last answer row. Speed-up = autopoll's q/s / the replica's.`,
      '',
      mdTable([
        ['API', 'old shard (replica)', 'autopoll', 'speed-up', 'answered once (replica / autopoll)'],
        ...r.shard.map((s) => [
          latency(s.latencyMs),
          `${s.replica.questions} questions in ${num(s.replica.totalSec, 2)} s (${num(s.replica.questionsPerSec, 2)} q/s)`,
          `${s.autopoll.questions} questions in ${num(s.autopoll.totalSec, 2)} s (${num(s.autopoll.questionsPerSec, 2)} q/s; serving after ${num(s.autopoll.producerReadySec, 2)} s)`,
          `${s.speedup ?? '-'}x${s.target ? ` (>= ${s.target}x: ${verdict(shardOk(s))})` : ''}`,
          `${s.replica.answeredOnce ? 'yes' : '**no**'} / ${s.autopoll.answeredOnce ? 'yes' : '**no**'}`,
        ]),
      ]),
      '',
    );
  }
  if (r.leftoverProcesses) out.push(`${r.leftoverProcesses} baseline Claude Code process(es) were still running at the end (killed).`, '');
  return out;
}
