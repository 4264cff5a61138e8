/**
 * CPU accounting and API requests over one Claude phase: the machine, the Claude Code processes
 * (exited and live), the bench itself, and the requests the fake API saw.
 */
import type { FakeAnthropic } from '../../test/support/fakeAnthropic.js';
import type { PhaseResult } from '../claude.js';
import { cpuFigure, type CpuFigure } from '../cpuMeter.js';
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
    const machine = cpuFigure(this.before.machine, machineCpuSeconds(), wallSec);
    const claude = cpuFigure(this.before.claude, this.claudeCpu(), wallSec);
    const bench = cpuFigure(this.before.bench, (own.user + own.system) / 1e6, wallSec);
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
