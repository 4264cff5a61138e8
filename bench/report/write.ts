/**
 * Writes bench/REPORT.md and its charts (bench/report/<chart>.svg) from the results files in
 * bench/results/: the I/O around the pure parts (markdown.ts, charts.ts). Called at the end of
 * `npm run bench`, and by `npm run bench:report` (main.ts) to write it again without a run.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { CapacityResult } from '../capacity.js';
import type { ClaudeResult } from '../claude.js';
import type { IdleResult } from '../idle.js';
import type { McpResult } from '../mcp.js';
import type { PipelineResult } from '../pipeline.js';
import type { ScaleResult } from '../scale.js';
import type { StartupResult } from '../startup.js';
import { REPO } from '../../test/support/bridge.js';
import { buildCharts, CHART_NAMES, type ChartName } from './charts.js';
import { collectEnvironment, type BenchEnvironment } from './environment.js';
import { renderReport, type ReportInput, type RunInfo } from './markdown.js';
import { renderSvg } from './render.js';

export const RESULTS_DIR = join(REPO, 'bench', 'results');
export const REPORT_FILE = join(REPO, 'bench', 'REPORT.md');
export const CHARTS_DIR = join(REPO, 'bench', 'report');

export interface WriteReportOptions {
  /** The command named in the report. */
  command: string;
  resultsDir?: string;
  reportFile?: string;
  chartsDir?: string;
}

function readJson<T>(file: string): T | null {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * The machine and versions to show: those the most recent run recorded, else collected now (results
 * written before runs recorded them).
 */
function environmentFor(runs: Array<[string, RunInfo | null]>): { environment: BenchEnvironment; from: string } {
  const recorded = runs
    .filter((r): r is [string, RunInfo & { environment: BenchEnvironment }] => Boolean(r[1]?.environment))
    .sort((a, b) => (b[1].finishedAt ?? '').localeCompare(a[1].finishedAt ?? ''));
  const latest = recorded[0];
  if (latest) return { environment: latest[1].environment, from: `As recorded by the ${latest[0]} benchmark's run (the most recent one); each run's own commit is in the table below` };
  return { environment: collectEnvironment(), from: 'Collected when this report was written: the results files did not record them' };
}

export async function writeReport(options: WriteReportOptions): Promise<{ reportFile: string; charts: string[] }> {
  const resultsDir = options.resultsDir ?? RESULTS_DIR;
  const reportFile = options.reportFile ?? REPORT_FILE;
  const chartsDir = options.chartsDir ?? CHARTS_DIR;
  const pipeline = readJson<PipelineResult & RunInfo>(join(resultsDir, 'pipeline.json'));
  const claude = readJson<ClaudeResult & RunInfo>(join(resultsDir, 'claude.json'));
  const scale = readJson<ScaleResult & RunInfo>(join(resultsDir, 'scale.json'));
  const capacity = readJson<CapacityResult & RunInfo>(join(resultsDir, 'capacity.json'));
  const startup = readJson<StartupResult & RunInfo>(join(resultsDir, 'startup.json'));
  const idle = readJson<IdleResult & RunInfo>(join(resultsDir, 'idle.json'));
  const mcp = readJson<McpResult & RunInfo>(join(resultsDir, 'mcp.json'));
  const soak = readJson<unknown>(join(resultsDir, 'soak.json'));

  mkdirSync(chartsDir, { recursive: true });
  const specs = buildCharts({ pipeline, claude, scale, capacity, soak });
  const links: Partial<Record<ChartName, string>> = {};
  const written: string[] = [];
  for (const name of CHART_NAMES) {
    const file = join(chartsDir, `${name}.svg`);
    const spec = specs[name];
    if (!spec) {
      // No results for it: a chart of an earlier run must not stay beside a report that no longer shows it.
      rmSync(file, { force: true });
      continue;
    }
    writeFileSync(file, await renderSvg(spec));
    links[name] = relative(dirname(reportFile), file).split('\\').join('/');
    written.push(file);
  }

  const { environment, from } = environmentFor([['pipeline', pipeline], ['claude', claude], ['scale', scale], ['capacity', capacity], ['startup', startup], ['idle', idle], ['mcp', mcp]]);
  const input: ReportInput = { generatedAt: new Date().toISOString(), command: options.command, environment, environmentFrom: from, pipeline, claude, scale, capacity, startup, idle, mcp, soak, charts: links };
  writeFileSync(reportFile, renderReport(input));
  return { reportFile, charts: written };
}
