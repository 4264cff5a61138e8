/**
 * CPU accounting and API requests over one Claude phase: the machine, the Claude Code processes
 * (exited and live), the bench itself, and the requests the fake API saw.
 */
import type { FakeAnthropic } from '../../test/support/fakeAnthropic.js';
import type { CpuFigure, PhaseResult } from '../claude.js';
import { round } from '../../test/support/numbers.js';
import { cpuSecondsWithChildren, machineCpuSeconds } from '../../test/support/procStat.js';
import { queryIdsIn } from './questions.js';

export class PhaseMeter {
  private before = { at: 0, machine: undefined as number | undefined, claude: undefined as number | undefined, bench: 0, messages: 0, all: 0 };

  constructor(private readonly api: FakeAnthropic, private readonly livePids: () => number[]) {}

  /**
   * Claude Code's CPU: the bench's waited-for children (the baseline's processes, sessions that
   * exited) plus the sessions running now, with whatever they waited for.
   */
  private claudeCpu(): number | undefined {
    const self = cpuSecondsWithChildren('self');
    const own = process.cpuUsage();
    if (self === undefined) return undefined;
    let sum = self - (own.user + own.system) / 1e6;
    for (const pid of this.livePids()) sum += cpuSecondsWithChildren(pid) ?? 0;
    return sum;
  }

  start(): void {
    const own = process.cpuUsage();
    this.before = {
      at: performance.now(),
      machine: machineCpuSeconds(),
      claude: this.claudeCpu(),
      bench: (own.user + own.system) / 1e6,
      messages: this.api.messageRequests.length,
      all: this.api.requests.length,
    };
  }

  stop(done: number): Pick<PhaseResult, 'api' | 'cpu'> {
    const wallSec = (performance.now() - this.before.at) / 1000;
    const own = process.cpuUsage();
    const figure = (a: number | undefined, b: number | undefined): CpuFigure | null =>
      a === undefined || b === undefined ? null : { cpuSec: round(b - a, 2), percentOfOneCore: round(((b - a) / wallSec) * 100, 0) };
    const machine = figure(this.before.machine, machineCpuSeconds());
    const claude = figure(this.before.claude, this.claudeCpu());
    const bench = figure(this.before.bench, (own.user + own.system) / 1e6);
    const requests = this.api.messageRequests.slice(this.before.messages);
    const perQ = (c: CpuFigure | null) => (c && done ? round((c.cpuSec / done) * 1000, 0) : null);
    return {
      api: {
        messages: requests.length,
        all: this.api.requests.length - this.before.all,
        messagesPerQuestion: done ? round(requests.length / done, 2) : null,
        withSeveralQuestions: requests.filter((r) => new Set(queryIdsIn(r.text)).size > 1).length,
      },
      cpu: { machine, claude, bench, claudeMsPerQuestion: perQ(claude), machineMsPerQuestion: perQ(machine) },
    };
  }
}
