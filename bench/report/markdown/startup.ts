/** The start-up benchmark in bench/REPORT.md: its summary rows and its section. */
import type { Distribution } from '../../numbers.js';
import type { StartupResult } from '../../startup.js';
import { mdTable, ms, verdict } from './format.js';

const p50 = (d: Distribution | null) => (d ? `${ms(d.p50)} (max ${ms(d.max)})` : '-');
const met = (d: Distribution | null, target: number) => (d ? verdict(d.p50 <= target) : '');

export function startupSummary(r: StartupResult): string[][] {
  const t = r.targets;
  return [
    ['`autopoll --help`, wall p50', p50(r.help.help), `<= ${t.helpMs} ms`, met(r.help.help, t.helpMs)],
    ['`autopoll status --help`, wall p50', p50(r.help.statusHelp), `<= ${t.helpMs} ms`, met(r.help.statusHelp, t.helpMs)],
    ['producer spawn -> first answer row, p50', p50(r.firstAnswer), `<= ${t.firstAnswerMs} ms`, met(r.firstAnswer, t.firstAnswerMs)],
  ];
}

export function startupSection(r: StartupResult): string[] {
  const t = r.targets;
  const c = r.config;
  const rows: string[][] = [
    ['figure', 'runs', 'p50', 'max', 'floor', ''],
    ['`autopoll --help`, wall', String(r.help.help?.n ?? 0), ms(r.help.help?.p50), ms(r.help.help?.max), `<= ${t.helpMs} ms`, met(r.help.help, t.helpMs)],
    ['`autopoll status --help`, wall', String(r.help.statusHelp?.n ?? 0), ms(r.help.statusHelp?.p50), ms(r.help.statusHelp?.max), `<= ${t.helpMs} ms`, met(r.help.statusHelp, t.helpMs)],
    ['`node -e 0`, wall (no command starts faster)', String(r.help.nodeAlone?.n ?? 0), ms(r.help.nodeAlone?.p50), ms(r.help.nodeAlone?.max), '', ''],
    ['producer spawn -> first answer row', String(r.firstAnswer?.n ?? 0), ms(r.firstAnswer?.p50), ms(r.firstAnswer?.max), `<= ${t.firstAnswerMs} ms`, met(r.firstAnswer, t.firstAnswerMs)],
    ['consumer spawn -> first Claude Code session warm', String(r.claudeWarm?.n ?? 0), ms(r.claudeWarm?.p50), ms(r.claudeWarm?.max), '', ''],
  ];
  return [
    `Wall time of whole processes, spawn to exit, ${c.helpRuns} spawns of each \`--help\`; a producer spawned ${c.producerRuns} times to a question already waiting, ` +
      'with a warm `consumer --answerer stub` already running on a private `redis-server`, until the answer row is in the bridge; ' +
      `\`consumer --sessions 1\` spawned ${c.claudeRuns} times with the Claude Code binary the Agent SDK ships against the fake API, until it logs \`Claude Code session ready\`. ` +
      'Method: [README.md#startup](README.md#startup).',
    '',
    mdTable(rows),
    '',
  ];
}
