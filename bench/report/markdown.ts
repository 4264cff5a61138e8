/**
 * bench/REPORT.md as a pure function of the results objects (bench/results/*.json), the machine
 * and versions, and the chart files written beside it. Every figure comes from the results; the
 * words around them are fixed.
 */
import type { CapacityResult } from '../capacity.js';
import type { ClaudeResult } from '../claude.js';
import type { IdleResult } from '../idle.js';
import type { McpResult } from '../mcp.js';
import type { PipelineResult } from '../pipeline.js';
import type { ScaleResult } from '../scale.js';
import type { StartupResult } from '../startup.js';
import type { ChartName } from './charts.js';
import type { BenchEnvironment } from './environment.js';
import { scenarioLabel } from './labels.js';
import { capacityOtherCpu, capacitySection, capacitySummary } from './markdown/capacity.js';
import { claudeSection, claudeSummary, phaseName } from './markdown/claude.js';
import { mdTable, otherCpu, percent, when } from './markdown/format.js';
import { idleSection, idleSummary } from './markdown/idle.js';
import { environmentSection } from './markdown/machine.js';
import { mcpSection, mcpSummary } from './markdown/mcp.js';
import { pipelineSection, pipelineSummary } from './markdown/pipeline.js';
import { scaleSection, scaleSummary } from './markdown/scale.js';
import { soakSection, soakSummary } from './markdown/soak.js';
import { startupSection, startupSummary } from './markdown/startup.js';

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
  capacity: (CapacityResult & RunInfo) | null;
  startup?: (StartupResult & RunInfo) | null;
  /** Absent from inputs made before the idle benchmark. */
  idle?: (IdleResult & RunInfo) | null;
  /** Absent from inputs made before the MCP benchmark. */
  mcp?: (McpResult & RunInfo) | null;
  /** bench/results/soak.json as parsed, null when absent. */
  soak: unknown;
  /** The charts written, as links relative to REPORT.md. */
  charts: Partial<Record<ChartName, string>>;
}

// Part of what the page says, held by test/unit/benchReport.test.ts.
export { SOAK_ABSENT } from './markdown/soak.js';

const notRun = (name: string) => `not measured in this run: run \`npm run bench -- ${name}\``;

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
  for (const s of input.capacity?.sizes ?? []) parts.push(`capacity (${s.sessions} session${s.sessions === 1 ? '' : 's'}) ${percent(capacityOtherCpu(s))}`);
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
    ...(input.capacity ? capacitySummary(input.capacity) : [['capacity of one host', notRun('capacity'), '', '']]),
    ...(input.idle ? idleSummary(input.idle) : [['idle consumer', notRun('idle'), '', '']]),
    ...soakSummary(input.soak),
    ...(input.startup ? startupSummary(input.startup) : [['start-up', notRun('startup'), '', '']]),
    ...(input.mcp ? mcpSummary(input.mcp) : [['ask through `autopoll mcp`', notRun('mcp'), '', '']]),
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
    ...section('Capacity: one host at a real API latency', 'capacity', input.capacity?.sizes.length ? capacitySection(input, input.capacity) : null),
    ...section('Idle: an elastic pool between bursts', 'idle', input.idle ? idleSection(input.idle) : null),
    ...soakSection(input),
    ...section('Start-up: each command, spawn to work', 'startup', input.startup ? startupSection(input.startup) : null),
    ...section('MCP: ask through `autopoll mcp` vs `autopoll ask`', 'mcp', input.mcp ? mcpSection(input.mcp) : null),
  ];
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
