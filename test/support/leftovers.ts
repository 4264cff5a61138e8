import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { processTable } from './procStat.js';

/**
 * The variable that marks every process of a vitest run (globalSetup.ts sets it; the workers and
 * everything they spawn inherit it). Not AUTOPOLL_...: tests that hand the CLI a clean
 * environment strip those.
 */
export const RUN_MARKER = 'TESTRUN_AUTOPOLL';
/** A scenario's own marker (chaos tests), and the spawned pipeline's. */
export const SCENARIO_MARKER = 'AUTOPOLL_CHAOS_RUN';
export const PIPELINE_MARKER = 'AUTOPOLL_TEST_PIPELINE';
/**
 * Claude Code gets an allowlisted environment: the markers reach its processes only when named
 * in --claude-env (AUTOPOLL_CLAUDE_ENV), so that the teardown still finds them.
 */
export const MARKERS = [RUN_MARKER, SCENARIO_MARKER, PIPELINE_MARKER];

export interface MarkedProcess {
  pid: number;
  ppid: number;
  command: string;
}

/**
 * "No process left behind", checked without trusting parent links (an orphan is re-parented to
 * init): every process a run or a scenario starts carries a marker in its environment, which its
 * children (Claude Code, redis-server started by `up`, ...) inherit; at the end, no live process
 * may carry it.
 */
export class ProcessMarker {
  constructor(
    readonly name = SCENARIO_MARKER,
    readonly value = randomBytes(6).toString('hex'),
  ) {}

  /** Add to the environment of everything the scenario spawns. */
  get env(): Record<string, string> {
    return { [this.name]: this.value };
  }

  /** Live processes carrying the marker (zombies excluded: they hold no resources and are reaped by their parent). */
  alive(): MarkedProcess[] {
    const needle = `${this.name}=${this.value}`;
    const found: MarkedProcess[] = [];
    for (const { pid, ppid, state } of processTable().values()) {
      if (pid === process.pid || state === 'Z') continue;
      try {
        if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(needle)) continue;
        found.push({ pid, ppid, command: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() });
      } catch {
        // Gone while we looked, or not ours to read.
      }
    }
    return found;
  }

  /** SIGKILLs `found` (by default every live process carrying the marker); returns them. */
  kill(found = this.alive()): MarkedProcess[] {
    for (const { pid } of found) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    return found;
  }
}
