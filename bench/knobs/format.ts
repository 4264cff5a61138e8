/** The knobs benchmark's printed report: a row per variant, then turns in flight versus sessions. */
import type { KnobsResult } from '../knobs.js';
import { table } from '../numbers.js';

export function formatKnobs(r: KnobsResult): string {
  const variants = table([
    ['variant', 'turn CPU ms', 'vs baseline', '/clear CPU ms', 'vs baseline', 'turn ms', '/clear ms', 'msgs/turn', 'reqs/turn', 'start CPU ms', 'wrong'],
    ...r.variants.map((v) => [
      v.name,
      `${v.turnCpuMs}`,
      `${v.turnCpuRatio}`,
      `${v.clearCpuMs}`,
      `${v.clearCpuRatio}`,
      `${v.turnMs}`,
      `${v.clearMs}`,
      `${v.messagesPerTurn}`,
      `${v.requestsPerTurn}`,
      `${v.startCpuMs}`,
      `${v.wrongAnswers}`,
    ]),
  ]);
  const inFlight = r.inFlight.length
    ? table([
        ['in flight', 'round', 's/question', 'p50 ms', 'p99 ms', 'Claude CPU ms/q', 'machine CPU ms/q', 'wrong'],
        ...r.inFlight.map((f) => [`${f.inFlight} of ${r.config.inFlight.sessions}`, `${f.round + 1}`, `${f.secPerQuestion}`, `${f.questionMs?.p50 ?? '-'}`, `${f.questionMs?.p99 ?? '-'}`, `${f.claudeMsPerQuestion ?? '-'}`, `${f.machineMsPerQuestion ?? '-'}`, `${f.wrong}`]),
      ])
    : '(turns in flight not measured)';
  return [variants, '', inFlight, '', `leftover Claude Code processes: ${r.leftoverProcesses}`].join('\n');
}
