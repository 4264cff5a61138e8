import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Router } from 'express';
import { AnswerJobSchema, QuestionJobSchema, type QuestionJob } from '../shared/jobs.js';

const PREVIEW_CHARS = 300;

function preview(text: string): string {
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}… (${text.length} chars)` : text;
}

/** What an operator reads first in a question job: who asked what; the context by path only. */
export function questionView(data: unknown): unknown {
  const q = QuestionJobSchema.safeParse(data);
  if (!q.success) return data;
  const { question, context, ...rest } = q.data;
  return { ...rest, question: preview(question), ...(context ? { context: contextView(context) } : {}) };
}

function contextView(context: NonNullable<QuestionJob['context']>): Record<string, unknown> {
  if (context.dropped) return { path: context.path, truncated: context.truncated, text: 'dropped from Redis once the question was answered' };
  return { path: context.path, chars: context.text.length, truncated: context.truncated };
}

export function answerView(data: unknown): unknown {
  const a = AnswerJobSchema.safeParse(data);
  if (!a.success) return data;
  const { outcome, ...rest } = a.data;
  return { ...rest, outcome: outcome.kind === 'answer' ? { ...outcome, answer: preview(outcome.answer) } : outcome };
}

function adapter(queue: Queue, readOnly: boolean, description: string, view: (data: unknown) => unknown): BullMQAdapter {
  const a = new BullMQAdapter(queue, { readOnlyMode: readOnly, description });
  a.setFormatter('data', view);
  a.setFormatter('name', (job: { name: string; data?: { queryId?: unknown } }) =>
    typeof job.data?.queryId === 'string' ? `${job.name} ${job.data.queryId}` : job.name,
  );
  return a;
}

/** Bull Board over both queues, served at `/`; `readOnly` is Bull Board's own read-only mode. */
export function bullBoardRouter(queues: { questions: Queue; answers: Queue }, readOnly: boolean): Router {
  const server = new ExpressAdapter().setBasePath('/');
  createBullBoard({
    queues: [
      adapter(queues.questions, readOnly, 'Questions from the bridge, answered by the consumers (retry a failed one to replay it)', questionView),
      adapter(queues.answers, readOnly, 'Answers on their way to the bridge, written by the producer', answerView),
    ],
    serverAdapter: server,
    // Bull Board knows queues and workers, not consumers' sessions, and searches no job: our pages, linked from its header menu.
    options: { uiConfig: { boardTitle: 'autopoll', hideDocsLink: true, miscLinks: [{ text: 'Consumers (live/max sessions)', url: '/consumers' }, { text: 'Find a question', url: '/find' }] } },
  });
  return server.getRouter() as Router;
}
