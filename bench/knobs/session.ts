/**
 * One measured session of the knobs benchmark: a ClaudeSession (the product's own, with its
 * sessionOptions and sessionEnv) started with a variant's environment, then blocks of turns,
 * each followed by a /clear as the pool does, with Claude Code's CPU read from /proc around each (cpu.ts).
 */
import { buildPrompt } from '../../src/consumer/claude/prompt.js';
import { ClaudeSession } from '../../src/consumer/claude/ClaudeSession.js';
import type { Logger } from '../../src/shared/logger.js';
import type { ClaudeRun } from '../claude/setup.js';
import { answersItsQuestion, question } from '../claude/questions.js';
import { preciseCpuSeconds } from './cpu.js';
import type { Variant } from './variants.js';

/** What a block of turns cost, summed over its turns (CPU in seconds, times in ms). */
export interface Block {
  turns: number;
  turnCpuSec: number;
  clearCpuSec: number;
  turnMs: number;
  clearMs: number;
  /** Requests the fake API saw during the block: messages (the turns' and any extra), and all. */
  messages: number;
  requests: number;
  wrongAnswers: number;
}

export class MeasuredSession {
  private readonly session: ClaudeSession;
  /** Claude Code's CPU from spawn to warm: what a recycle (a new process instead of /clear) costs. */
  startCpuSec = 0;
  startMs = 0;

  constructor(
    readonly variant: Variant,
    private readonly run: ClaudeRun,
    logger: Logger,
    tools: boolean,
  ) {
    this.session = new ClaudeSession(
      { model: run.config.model, cwd: run.toolsRoot, tools, env: { ...run.env, ...variant.env }, passEnv: Object.keys(variant.env), executable: run.config.executable, interruptGraceMs: 2000 },
      logger,
    );
  }

  get pid(): number | undefined {
    return this.session.pid;
  }

  async start(): Promise<void> {
    const t0 = performance.now();
    await this.session.warm(60_000);
    this.startMs = performance.now() - t0;
    this.startCpuSec = this.cpu();
  }

  /** `turns` questions, each answered then cleared; `first` numbers the questions. */
  async block(turns: number, first: number): Promise<Block> {
    const api = this.run.api;
    const b: Block = { turns, turnCpuSec: 0, clearCpuSec: 0, turnMs: 0, clearMs: 0, messages: -api.messageRequests.length, requests: -api.requests.length, wrongAnswers: 0 };
    for (let i = 0; i < turns; i++) {
      const q = question(first + i);
      const c0 = this.cpu();
      const t0 = performance.now();
      const out = await this.session.turn(buildPrompt(q), this.run.config.turnTimeoutSec * 1000);
      const c1 = this.cpu();
      const t1 = performance.now();
      await this.session.clear();
      b.turnCpuSec += c1 - c0;
      b.clearCpuSec += this.cpu() - c1;
      b.turnMs += t1 - t0;
      b.clearMs += performance.now() - t1;
      if (!answersItsQuestion(out.text, q.queryId)) b.wrongAnswers++;
    }
    b.messages += api.messageRequests.length;
    b.requests += api.requests.length;
    return b;
  }

  close(): Promise<void> {
    return this.session.close();
  }

  kill(): void {
    this.session.kill();
  }

  private cpu(): number {
    return (this.session.pid && preciseCpuSeconds(this.session.pid)) || 0;
  }
}
