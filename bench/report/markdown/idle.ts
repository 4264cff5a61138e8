/** The idle benchmark in bench/REPORT.md: its summary rows and its section. */
import type { IdleResult } from '../../idle.js';
import { answeredOnce } from '../../idle/format.js';
import { mdTable, verdict } from './format.js';

export function idleSummary(r: IdleResult): string[][] {
  const ms = r.idle.cpuMsPerSec.total;
  const once = answeredOnce(r.first) && answeredOnce(r.second);
  return [
    [`idle \`consumer --sessions ${r.config.sessions}\`, ${r.config.idleSec} s after its last question`, `${ms} ms CPU/s`, `<= ${r.targets.idleCpuMsPerSec}`, verdict(ms <= r.targets.idleCpuMsPerSec)],
    ['every question answered exactly once (idle, bursts before and after)', once ? 'yes' : '**no**', 'yes', verdict(once)],
  ];
}

export function idleSection(r: IdleResult): string[] {
  const c = r.config;
  const timeout = c.sessionIdleTimeoutSec === undefined ? 'the default `--session-idle-timeout`' : `\`--session-idle-timeout ${c.sessionIdleTimeoutSec}\``;
  return [
    `A producer and \`consumer --sessions ${c.sessions}${c.minSessions !== undefined ? ` --min-sessions ${c.minSessions}` : ''}\` (${timeout}; the real Claude Code binary on the fake API): a burst of ${c.burst} questions grows the pool, ` +
      `nobody asks for ${c.idleSec} s, the CPU of the consumer and every process below it is read from /proc over ${r.idle.windowSec} s, then a second burst of ${c.burst}. ` +
      'Method: [README.md#idle](README.md#idle).',
    '',
    mdTable([
      ['phase', 'Claude Code sessions', 'time', 'CPU', 'memory', 'answered once'],
      ['start', String(r.sessionsAtStart), `${r.startSec} s to \`consumer started\``, '', '', ''],
      ['first burst', `at most ${r.first.peakSessions}`, `${r.first.seconds} s`, '', '', answeredOnce(r.first) ? 'yes' : '**no**'],
      ['idle', String(r.idle.sessions), `${r.idle.windowSec} s window`, `${r.idle.cpuMsPerSec.total} ms/s (consumer ${r.idle.cpuMsPerSec.consumer}, below it ${r.idle.cpuMsPerSec.below})`, `${r.idle.rssMb} MB`, ''],
      ['second burst', `at most ${r.second.peakSessions}`, `${r.second.seconds} s`, '', '', answeredOnce(r.second) ? 'yes' : '**no**'],
    ]),
    '',
  ];
}
