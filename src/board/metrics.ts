import type { Queue } from 'bullmq';
import type { RedisConnection } from '../shared/redis.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { within } from '../shared/closing.js';
import type { EventSource, ProducerEvents, QuestionWorkerEvents, SessionPoolEvents } from '../shared/roleEvents.js';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized', 'waiting-children'] as const;

/**
 * The Prometheus metrics of one process. Labels are bounded sets (states, kinds, reasons): never
 * a conversation, query or token, which would leak secrets and grow without end.
 */
export class AutopollMetrics {
  readonly registry = new Registry();
  private readonly taken = this.counter('autopoll_questions_taken_total', 'Questions taken off the bridge and queued');
  private readonly rejected = this.counter('autopoll_questions_rejected_total', 'Bridge messages rejected (not a usable query)');
  private readonly answered = this.counter('autopoll_questions_answered_total', 'Answers written to the bridge');
  private readonly failed = this.counter('autopoll_questions_failed_total', 'Error responses written to the bridge');
  private readonly dropped = this.counter('autopoll_answers_dropped_total', 'Answers not written (duplicates, late answers)');
  private readonly latency = new Histogram({
    name: 'autopoll_answer_latency_seconds',
    help: 'From taking a question off the bridge to writing its response',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly answering = new Histogram({
    name: 'autopoll_answer_duration_seconds',
    help: "One answerer run (a consumer's turn), successful ones",
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  private readonly attemptFailures = this.counter('autopoll_attempt_failures_total', 'Failed answer attempts, by error kind', ['kind', 'final']);
  private readonly turnTimeouts = this.counter('autopoll_turn_timeouts_total', 'Claude turns interrupted by --turn-timeout');
  private readonly sessionRestarts = this.counter('autopoll_session_restarts_total', 'Claude Code sessions replaced, by reason', ['reason']);
  private readonly tokens = this.counter('autopoll_claude_tokens_total', 'Claude tokens used, by direction', ['direction']);
  private readonly backpressure = new Gauge({
    name: 'autopoll_backpressure',
    help: '1 while the producer holds its taking because the questions queue is full (--max-queued)',
    registers: [this.registry],
  });
  private readonly sessions = new Gauge({
    name: 'autopoll_claude_sessions',
    help: 'Claude Code sessions: live (started, starting, or starting again after a failed start), busy (in a turn), max (--sessions)',
    labelNames: ['state'],
    registers: [this.registry],
  });
  private readonly cost = this.counter('autopoll_claude_cost_usd_total', 'Claude cost in US dollars, as Claude Code reports it');

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'autopoll_' });
  }

  watchProducer(producer: EventSource<ProducerEvents>): void {
    producer.on('taken', (e) => {
      this.taken.inc(e.queued);
      this.rejected.inc(e.rejected);
    });
    producer.on('written', (e) => {
      (e.state === 'answered' ? this.answered : this.failed).inc();
      this.latency.observe(e.seconds);
    });
    producer.on('dropped', () => this.dropped.inc());
    producer.on('backpressure', (e) => this.backpressure.set(e.engaged ? 1 : 0));
  }

  watchAnswers(answers: EventSource<QuestionWorkerEvents>): void {
    answers.on('answered', (e) => {
      this.answering.observe(e.ms / 1000);
      if (e.usage?.inputTokens) this.tokens.inc({ direction: 'input' }, e.usage.inputTokens);
      if (e.usage?.outputTokens) this.tokens.inc({ direction: 'output' }, e.usage.outputTokens);
      if (e.usage?.costUsd) this.cost.inc(e.usage.costUsd);
    });
    answers.on('attemptFailed', (e) => {
      this.attemptFailures.inc({ kind: e.kind, final: String(e.final) });
      if (e.kind === 'turn_timeout') this.turnTimeouts.inc();
    });
  }

  watchSessions(sessions: EventSource<SessionPoolEvents>): void {
    sessions.on('sessionReplaced', (e) => this.sessionRestarts.inc({ reason: e.reason }));
    sessions.on('sessions', (c) => {
      for (const state of ['live', 'busy', 'max'] as const) this.sessions.set({ state }, c[state]);
    });
  }

  /**
   * Queue depths, read from Redis at each scrape. A scrape while Redis is down leaves them out
   * without asking: the connection would queue the commands and run them all on its return.
   */
  watchQueues(queues: Queue[], redis: RedisConnection): void {
    new Gauge({
      name: 'autopoll_queue_jobs',
      help: 'Jobs in each queue, by state',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        if (redis.status !== 'ready') return this.reset();
        const read = Promise.all(queues.map(async (q) => [q.name, await q.getJobCounts(...QUEUE_STATES)] as const));
        let counts: Array<readonly [string, Record<string, number>]> = [];
        if (!(await within(read.then((c) => (counts = c)), 2000).catch(() => false))) return;
        this.reset();
        for (const [queue, byState] of counts) {
          for (const state of QUEUE_STATES) this.set({ queue, state }, byState[state] ?? 0);
        }
      },
    });
  }

  private counter(name: string, help: string, labelNames: string[] = []): Counter {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}
