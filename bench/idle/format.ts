import type { IdleBurst, IdleResult } from '../idle.js';

/** Every question asked so far (this burst's and the ones before) answered, once. */
export function answeredOnce(b: IdleBurst): boolean {
  const c = b.check;
  return c.responseRows === c.asked && c.distinctQueryIds === c.asked && c.answeredTwice === 0;
}

/** The idle benchmark's lines for the terminal. */
export function formatIdle(r: IdleResult): string {
  const c = r.config;
  const burst = (name: string, b: IdleBurst) => `${name} burst: ${b.asked} questions in ${b.seconds} s, at most ${b.peakSessions} sessions, answered exactly once: ${answeredOnce(b) ? 'yes' : 'NO'}`;
  return [
    `consumer --sessions ${c.sessions}${c.minSessions !== undefined ? ` --min-sessions ${c.minSessions}` : ''}${c.sessionIdleTimeoutSec !== undefined ? ` --session-idle-timeout ${c.sessionIdleTimeoutSec}` : ''}: started in ${r.startSec} s with ${r.sessionsAtStart} session(s)`,
    burst('first', r.first),
    `idle ${c.idleSec} s after the last answer, over ${r.idle.windowSec} s: ${r.idle.cpuMsPerSec.total} ms of CPU a second (target <= ${r.targets.idleCpuMsPerSec}): consumer ${r.idle.cpuMsPerSec.consumer}, what it started ${r.idle.cpuMsPerSec.below}; ${r.idle.sessions} session(s), ${r.idle.processes} process(es), ${r.idle.rssMb} MB`,
    burst('second', r.second),
  ].join('\n');
}
