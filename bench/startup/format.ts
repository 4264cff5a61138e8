/** The start-up benchmark's printed report: each figure with its floor. */
import type { StartupResult } from '../startup.js';
import { table, type Distribution } from '../numbers.js';

const ms = (d: Distribution | null, at: 'p50' | 'max') => (d ? `${d[at]} ms` : '-');
const meets = (d: Distribution | null, target: number) => (d ? (d.p50 <= target ? 'met' : 'MISSED') : '-');

export function formatStartup(r: StartupResult): string {
  const t = r.targets;
  const rows: string[][] = [
    ['figure', 'runs', 'p50', 'max', 'floor', ''],
    ['autopoll --help (wall)', String(r.help.help?.n ?? 0), ms(r.help.help, 'p50'), ms(r.help.help, 'max'), `<= ${t.helpMs} ms`, meets(r.help.help, t.helpMs)],
    ['autopoll status --help (wall)', String(r.help.statusHelp?.n ?? 0), ms(r.help.statusHelp, 'p50'), ms(r.help.statusHelp, 'max'), `<= ${t.helpMs} ms`, meets(r.help.statusHelp, t.helpMs)],
    ['node -e 0 (wall, the floor of any command)', String(r.help.nodeAlone?.n ?? 0), ms(r.help.nodeAlone, 'p50'), ms(r.help.nodeAlone, 'max'), '', ''],
    ['producer spawn -> first answer row', String(r.firstAnswer?.n ?? 0), ms(r.firstAnswer, 'p50'), ms(r.firstAnswer, 'max'), `<= ${t.firstAnswerMs} ms`, meets(r.firstAnswer, t.firstAnswerMs)],
    ['consumer spawn -> first Claude Code session warm', String(r.claudeWarm?.n ?? 0), ms(r.claudeWarm, 'p50'), ms(r.claudeWarm, 'max'), '', ''],
  ];
  const notes = [
    'wall: spawn to exit of the whole process; first answer: a question already waiting, a warm stub consumer already running;',
    'Claude: `consumer --sessions 1` with the binary the Agent SDK ships, against the fake API, until it logs `Claude Code session ready`.',
  ];
  return [table(rows), '', ...notes.map((n) => `  ${n}`)].join('\n');
}
