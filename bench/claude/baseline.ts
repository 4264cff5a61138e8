/**
 * The baseline, the old shard's way: one `claude -p` process per question, serially, each waited
 * for (spawn, boot, one API call, exit), until the questions or the time budget run out.
 */
import type { ChildProcess } from 'node:child_process';
import { buildPrompt, SHARD_SYSTEM_PROMPT } from '../../src/consumer/claude/prompt.js';
import type { QuestionJob } from '../../src/shared/jobs.js';
import type { PhaseResult } from '../claude.js';
import { round } from '../../test/support/numbers.js';
import { cleanup } from '../cleanup.js';
import { PhaseMeter } from './meter.js';
import { runProcess } from './processes.js';
import { killGroup } from '../../src/consumer/claude/processTree.js';
import { answersItsQuestion, question } from './questions.js';
import type { ClaudeRun } from './setup.js';
import { throwIfStopped } from './stopping.js';
import { finishPhase, Tally } from './tally.js';

export async function runBaseline(run: ClaudeRun): Promise<PhaseResult> {
  const { config, log, signal } = run;
  const planned = Math.min(config.n, config.baselineN);
  log(`[claude] baseline: up to ${planned} questions, one \`claude -p\` process each, serially (time budget ${config.baselineBudgetSec} s)`);
  let current: ChildProcess | undefined;
  const undoKill = cleanup.add('kill the baseline claude -p', () => {
    if (current?.pid && current.exitCode === null && current.signalCode === null) killGroup(current.pid);
  });
  const tally = new Tally();
  const meter = new PhaseMeter(run.api, () => []);
  meter.start();
  const t0 = performance.now();
  try {
    for (let i = 0; i < planned; i++) {
      throwIfStopped(signal);
      if (performance.now() - t0 > config.baselineBudgetSec * 1000) {
        tally.stoppedBy = 'time budget';
        break;
      }
      await askOneProcess(run, question(i), tally, (child) => (current = child));
      if ((i + 1) % 25 === 0) log(`[claude]   ${i + 1} done, ${round((performance.now() - t0) / (i + 1), 0)} ms per question so far`);
    }
  } finally {
    await undoKill();
  }
  const totalSec = (performance.now() - t0) / 1000;
  const phase = finishPhase('baseline: claude -p per question', null, planned, tally, totalSec, meter.stop(tally.done));
  log(`[claude]   ${phase.done} questions in ${phase.totalSec} s: ${phase.secPerQuestion} s per question${tally.stoppedBy ? ` (stopped by its ${tally.stoppedBy})` : ''}`);
  return phase;
}

/** One question through its own `claude -p`, spawn to exit, counted in the tally. */
async function askOneProcess(run: ClaudeRun, q: QuestionJob, tally: Tally, onSpawn: (child: ChildProcess) => void): Promise<void> {
  const { config } = run;
  // The same work per question as the pool's default sessions: its system prompt, no tools
  // (the context travels in the prompt), no settings.
  const args = ['-p', buildPrompt(q), '--model', config.model, '--tools', '', '--setting-sources', '', '--system-prompt', SHARD_SYSTEM_PROMPT];
  const t = performance.now();
  const r = await runProcess(config.executable, args, run.env, run.toolsRoot, config.turnTimeoutSec * 1000, (child) => {
    onSpawn(child);
    if (child.pid) run.started.add(child.pid);
  });
  throwIfStopped(run.signal);
  tally.times.push(performance.now() - t);
  if (r.code === 0 && answersItsQuestion(r.stdout, q.queryId)) tally.answered++;
  else tally.fail(`${q.queryId}: ${r.timedOut ? 'timed out; ' : ''}exit ${r.code ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(-300)}`);
}
