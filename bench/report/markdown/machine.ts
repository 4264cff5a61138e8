/** The machine and versions in bench/REPORT.md, and which run of each benchmark the figures come from. */
import type { BenchEnvironment } from '../environment.js';
import { num } from '../labels.js';
import type { ReportInput, RunInfo } from '../markdown.js';
import { claudeVersion, mdTable, when } from './format.js';

function commitOf(env: BenchEnvironment | undefined | null): string {
  const a = env?.versions.autopoll;
  if (!a?.commit) return '-';
  return `\`${a.commit.slice(0, 12)}\`${a.dirty ? ' + uncommitted changes' : ''}`;
}

export function environmentSection(input: ReportInput): string[] {
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
    ['capacity', input.capacity, input.capacity ? `--sessions ${input.capacity.config.sizes.join(', ')}, ${input.capacity.config.questionsPerSession} questions a session, ${input.capacity.config.latencyMs} ms API latency` : ''],
    ['startup', input.startup ?? null, input.startup ? `${input.startup.config.helpRuns} spawns of each --help, ${input.startup.config.producerRuns} producers, ${input.startup.config.claudeRuns} Claude consumers` : ''],
    ['mcp', input.mcp ?? null, input.mcp ? `${input.mcp.config.n} questions each way, ${input.mcp.config.concurrent} at once, --sessions ${input.mcp.config.sessions}` : ''],
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
