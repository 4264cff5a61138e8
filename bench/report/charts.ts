/**
 * The report's charts as Vega-Lite specs: pure functions from the results objects to a spec,
 * rendered to SVG by render.ts.
 *
 * Library: Vega-Lite compiled to Vega, rendered with Vega's headless `view.toSVG()`: plain
 * JavaScript in Node, no browser, no DOM, no native canvas (text widths are estimated when the
 * optional `canvas` package is absent, which it is), and a spec is plain JSON, so these builders
 * are pure and testable. Rejected: Chart.js, which draws only on a canvas, so Node needs
 * chartjs-node-canvas and the native `canvas` package (a compiled binary; and it makes PNGs, not
 * SVG); and Observable Plot, which builds SVG through a DOM (`document`), so Node needs jsdom or
 * linkedom beside it. Apache ECharts' server-side SVG rendering (`ssr: true`) would do too; its
 * options are per chart type, where Vega-Lite's grammar composes the layers, facets and rules
 * (targets, percentiles) these charts need from one spec.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { CapacityResult } from '../capacity.js';
import type { ClaudeResult } from '../claude.js';
import type { PipelineResult } from '../pipeline.js';
import type { ScaleResult } from '../scale.js';
import { scenarioLabel, soakPhaseLabel } from './labels.js';
import { readSoak } from './soak.js';

/** The charts the report can have; each is written to bench/report/<name>.svg. */
export const CHART_NAMES = ['pipeline-throughput', 'pipeline-latency', 'claude', 'scale', 'capacity', 'soak-cpu'] as const;
export type ChartName = (typeof CHART_NAMES)[number];

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const FONT = 'Helvetica, Arial, sans-serif';
const TARGET_COLOR = '#c0392b';

/** Shared look: white background, no view border, one font. */
function base(title: string, subtitle: string): Pick<TopLevelSpec, '$schema' | 'background' | 'padding' | 'config' | 'title'> {
  return {
    $schema: SCHEMA,
    background: 'white',
    padding: 12,
    title: { text: title, subtitle, anchor: 'start', fontSize: 15, subtitleFontSize: 11, subtitleColor: '#555' },
    config: { font: FONT, view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' }, legend: { labelFontSize: 11, titleFontSize: 11 } },
  };
}

/** Throughput of each scenario: the median run as a bar, every run as a dot, the target as a line. */
export function pipelineThroughputChart(result: PipelineResult): TopLevelSpec | null {
  const values = result.scenarios.flatMap((s) =>
    s.throughputRuns.map((r) => ({ scenario: scenarioLabel(s), run: r.run, qps: r.questionsPerSec, median: r.run === s.throughput.run })),
  );
  if (values.length === 0) return null;
  const target = result.targets.throughputQps;
  const runs = Math.max(...result.scenarios.map((s) => s.throughputRuns.length));
  const scenario = { field: 'scenario', type: 'nominal', title: null, axis: { labelAngle: 0, labelLimit: 220 }, sort: null } as const;
  return {
    ...base(
      'End-to-end throughput, stub answerer',
      `bridge insert -> answer row, ${result.config.throughputN.toLocaleString('en-US')} questions a run; bar: median of ${runs} run${runs === 1 ? '' : 's'}, dots: every run; red dashes: target >= ${target.toLocaleString('en-US')} q/s`,
    ),
    width: 440,
    height: 240,
    data: { values },
    layer: [
      {
        transform: [{ filter: 'datum.median' }],
        mark: { type: 'bar', color: '#4c78a8', width: { band: 0.55 } },
        encoding: { x: scenario, y: { field: 'qps', type: 'quantitative', title: 'questions per second' } },
      },
      {
        transform: [{ filter: 'datum.median' }],
        mark: { type: 'text', baseline: 'top', dy: 8, fontSize: 13, fontWeight: 'bold', color: 'white' },
        encoding: { x: scenario, y: { field: 'qps', type: 'quantitative' }, text: { field: 'qps', type: 'quantitative', format: ',' } },
      },
      { mark: { type: 'point', filled: true, color: '#222', size: 36, xOffset: 40 }, encoding: { x: scenario, y: { field: 'qps', type: 'quantitative' } } },
      // No x: the target line spans the chart.
      { mark: { type: 'rule', color: TARGET_COLOR, strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { y: { datum: target } } },
    ],
  };
}

/** A bin width of 1, 2 or 5 x 10^k that cuts `range` into at most `bins` bins. */
export function niceStep(range: number, bins: number): number {
  const raw = Math.max(range, 1e-9) / bins;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw)!;
}

/** Pickup latency (bridge commit -> job active), a histogram per scenario with its p50, p99 and the p50 target. */
export function pipelineLatencyChart(result: PipelineResult): TopLevelSpec | null {
  const withSamples = result.scenarios.filter((s) => (s.latency.pickupSamplesMs?.length ?? 0) > 0);
  if (withSamples.length === 0) return null;
  const target = result.targets.pickupP50Ms;
  const kinds = ['p50', 'p99', 'target'];
  const values = withSamples.flatMap((s) => {
    const scenario = scenarioLabel(s);
    const d = s.latency.pickupMs;
    const lines = d ? [{ scenario, kind: 'p50', ms: d.p50 }, { scenario, kind: 'p99', ms: d.p99 }] : [];
    return [...s.latency.pickupSamplesMs.map((ms) => ({ scenario, kind: 'sample', ms })), ...lines, { scenario, kind: 'target', ms: target }];
  });
  const all = values.map((v) => v.ms);
  const step = niceStep(Math.max(...all) - Math.min(...all), 60);
  const n = withSamples[0]!.latency.pickupSamplesMs.length;
  return {
    ...base(
      'Pickup latency distribution',
      `bridge commit -> job active, ${n} questions one every ~${result.config.latencyGapMs} ms per scenario; ${step} ms bins; lines: p50, p99 and the p50 target (< ${target} ms)`,
    ),
    data: { values },
    facet: {
      row: {
        field: 'scenario', type: 'nominal', title: null, sort: withSamples.map(scenarioLabel),
        header: { labelFontSize: 12, labelFontWeight: 'bold', labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' },
      },
    },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 560,
      height: 140,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'sample'" }],
          mark: { type: 'bar', color: '#4c78a8', binSpacing: 0.5 },
          encoding: {
            x: { field: 'ms', type: 'quantitative', bin: { step, anchor: 0 }, title: 'pickup latency (ms)', axis: { tickCount: 12 } },
            y: { aggregate: 'count', type: 'quantitative', title: 'questions' },
          },
        },
        {
          transform: [{ filter: "datum.kind !== 'sample'" }],
          mark: { type: 'rule', strokeWidth: 1.5 },
          encoding: {
            x: { field: 'ms', type: 'quantitative' },
            color: { field: 'kind', type: 'nominal', title: null, scale: { domain: kinds, range: ['#2ca02c', '#ff7f0e', TARGET_COLOR] }, legend: { orient: 'top', labelExpr: "datum.label === 'target' ? 'p50 target' : datum.label" } },
            strokeDash: { field: 'kind', type: 'nominal', title: null, scale: { domain: kinds, range: [[1, 0], [1, 0], [6, 4]] }, legend: { orient: 'top', labelExpr: "datum.label === 'target' ? 'p50 target' : datum.label" } },
          },
        },
      ],
    },
  };
}

/** Seconds per question through real Claude Code: one `claude -p` per question vs the pool sizes. */
export function claudeChart(result: ClaudeResult): TopLevelSpec | null {
  const baseline = result.phases.find((p) => p.sessions === null);
  const baseSec = baseline?.secPerQuestion ?? null;
  const values = result.phases
    .filter((p) => p.secPerQuestion !== null)
    .map((p) => ({
      phase: p.sessions === null ? 'one claude -p per question' : `pool, ${p.sessions} session${p.sessions === 1 ? '' : 's'}`,
      seconds: p.secPerQuestion,
      label: `${p.secPerQuestion} s${p.speedup ? ` (${p.speedup}x)` : ''}`,
      // The pool's target as seconds per question: the baseline's divided by the target speed-up.
      targetSeconds: p.target && baseSec ? baseSec / p.target : null,
      // The label goes right of the bar or of the target tick, whichever ends further right.
      labelAt: Math.max(p.secPerQuestion!, p.target && baseSec ? baseSec / p.target : 0),
      target: p.target ? `target >= ${p.target}x` : null,
    }));
  if (values.length === 0) return null;
  return {
    ...base(
      'Seconds per question through real Claude Code',
      `zero-latency fake API, ${baseline?.done ?? result.config.baselineN} questions (baseline) / ${result.config.n} (pool); label: s/question (speed-up); red tick: the target speed-up`,
    ),
    width: 420,
    height: 40 * values.length + 20,
    data: { values },
    // Without a canvas Vega estimates text at 0.8 em a character, so labels get a generous limit.
    encoding: { y: { field: 'phase', type: 'nominal', title: null, sort: null, axis: { labelLimit: 320 } } },
    layer: [
      {
        mark: { type: 'bar', color: '#4c78a8', height: { band: 0.6 } },
        encoding: { x: { field: 'seconds', type: 'quantitative', title: 'seconds per question (lower is better)' } },
      },
      { mark: { type: 'text', align: 'left', dx: 6, fontSize: 12 }, encoding: { x: { field: 'labelAt', type: 'quantitative' }, text: { field: 'label' } } },
      {
        transform: [{ filter: 'datum.targetSeconds !== null' }],
        mark: { type: 'tick', color: TARGET_COLOR, thickness: 2.5, size: 26 },
        encoding: { x: { field: 'targetSeconds', type: 'quantitative' }, tooltip: { field: 'target' } },
      },
    ],
  };
}

/** Scale-out: measured throughput against the ideal (sessions x 1000 / latency), by consumer processes. */
export function scaleChart(result: ScaleResult): TopLevelSpec | null {
  const c = result.config;
  return measuredVsIdealChart(
    'Scale-out throughput',
    `1 producer, N consumers x ${c.sessionsPerConsumer} sessions, stub answerer ${c.stubLatencyMs} ms; ideal = sessions x ${1000 / c.stubLatencyMs}/s; ${c.windowSec} s window`,
    { field: 'consumers', title: 'consumer processes' },
    result.phases.map((p) => ({ x: p.consumers, measured: p.questionsPerSec, ideal: p.idealQps })),
  );
}

/** Capacity of one host: measured throughput against the ideal, by the consumer's sessions. */
export function capacityChart(result: CapacityResult): TopLevelSpec | null {
  const c = result.config;
  const overhead = result.overheadSec === null ? 'not measured' : `${result.overheadSec} s`;
  return measuredVsIdealChart(
    'Capacity of one host at a real API latency',
    `producer + one consumer --sessions N, real Claude Code, fake API ${c.latencyMs} ms a reply; ideal = N / (latency + overhead at N=1, ${overhead})`,
    { field: 'sessions', title: 'Claude Code sessions (--sessions)' },
    result.sizes.map((s) => ({ x: s.sessions, measured: s.questionsPerSec, ideal: s.idealQps })),
  );
}

/** A measured throughput line over its ideal line (drawn wide and grey, under it), labelled with the measured figures. */
function measuredVsIdealChart(
  title: string, subtitle: string, x: { field: string; title: string }, points: Array<{ x: number; measured: number; ideal: number | null }>,
): TopLevelSpec | null {
  if (points.length === 0) return null;
  // Ideal first, so that the measured line is drawn over it (they coincide when scaling is perfect).
  const values = points.flatMap((p) => [
    ...(p.ideal === null ? [] : [{ [x.field]: p.x, series: 'ideal', qps: p.ideal }]),
    { [x.field]: p.x, series: 'measured', qps: p.measured },
  ]);
  const domain = ['measured', 'ideal'];
  // One legend: the three channels share the field, title and legend, so Vega-Lite merges them.
  const legend = { orient: 'top-left' as const, symbolType: 'stroke' };
  return {
    ...base(title, subtitle),
    width: 420,
    height: 260,
    data: { values },
    encoding: {
      x: { field: x.field, type: 'quantitative', title: x.title, axis: { values: points.map((p) => p.x), format: 'd' }, scale: { zero: true } },
      y: { field: 'qps', type: 'quantitative', title: 'questions per second' },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain, range: ['#4c78a8', '#b8b8b8'] }, legend },
    },
    layer: [
      {
        mark: { type: 'line' },
        encoding: {
          strokeWidth: { field: 'series', type: 'nominal', title: null, sort: domain, scale: { domain, range: [2, 9] }, legend },
          strokeDash: { field: 'series', type: 'nominal', title: null, scale: { domain, range: [[1, 0], [6, 3]] }, legend },
        },
      },
      { transform: [{ filter: "datum.series === 'measured'" }], mark: { type: 'point', filled: true, size: 50 } },
      { transform: [{ filter: "datum.series === 'measured'" }], mark: { type: 'text', dy: 14, dx: 12, fontSize: 11 }, encoding: { text: { field: 'qps', type: 'quantitative', format: '.2f' } } },
    ],
  };
}

/**
 * The soak's CPU per question: a bar per phase stacked by process, each phase on its own scale (the
 * stub's is a hundredth of Claude Code's); the report's table has the figures.
 */
export function soakCpuChart(soak: unknown): TopLevelSpec | null {
  const phases = (readSoak(soak)?.phases ?? []).filter((p) => Object.keys(p.cpuMs).some((who) => who !== 'total'));
  if (phases.length === 0) return null;
  const values = phases.flatMap((p) =>
    Object.entries(p.cpuMs).filter(([who]) => who !== 'total').map(([who, ms]) => ({ phase: soakPhaseLabel(p), who, ms })),
  );
  return {
    ...base('CPU per question in the soak, by process', 'utime + stime of each process over the phase / questions answered; each phase on its own scale'),
    data: { values },
    facet: {
      row: { field: 'phase', type: 'nominal', title: null, sort: phases.map(soakPhaseLabel), header: { labelFontSize: 12, labelFontWeight: 'bold', labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' } },
    },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 460,
      height: 26,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'ms', type: 'quantitative', stack: 'zero', title: 'CPU ms per question' },
        color: { field: 'who', type: 'nominal', title: 'process', scale: { scheme: 'tableau10' }, legend: { orient: 'bottom', direction: 'horizontal' } },
        order: { field: 'who' },
        tooltip: [{ field: 'who' }, { field: 'ms', type: 'quantitative' }],
      },
    },
  };
}

/** Every chart the results allow, by name (absent results, no chart). */
export function buildCharts(results: { pipeline?: PipelineResult | null; claude?: ClaudeResult | null; scale?: ScaleResult | null; capacity?: CapacityResult | null; soak?: unknown }): Partial<Record<ChartName, TopLevelSpec>> {
  const charts: Partial<Record<ChartName, TopLevelSpec>> = {};
  const put = (name: ChartName, spec: TopLevelSpec | null) => {
    if (spec) charts[name] = spec;
  };
  if (results.pipeline) {
    put('pipeline-throughput', pipelineThroughputChart(results.pipeline));
    put('pipeline-latency', pipelineLatencyChart(results.pipeline));
  }
  if (results.claude) put('claude', claudeChart(results.claude));
  if (results.scale) put('scale', scaleChart(results.scale));
  if (results.capacity) put('capacity', capacityChart(results.capacity));
  if (results.soak) put('soak-cpu', soakCpuChart(results.soak));
  return charts;
}
