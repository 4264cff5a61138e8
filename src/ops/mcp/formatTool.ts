import type { Answer, ShardStatus } from './McpAsker.js';

/** A tool's result: text for the model, the same facts as structured content for programs. */
export interface ToolResult {
  [key: string]: unknown;
  content: Array<{ type: 'text'; text: string }>;
  structuredContent: Record<string, unknown>;
  isError?: boolean;
}

/**
 * The text, and the facts with the text in `message`: Claude Code shows the model only the
 * structured content of a result that has some, and the text says what to do next.
 */
export function toolResult(text: string, facts: Record<string, unknown>, isError = false): ToolResult {
  return { content: [{ type: 'text', text }], structuredContent: { ...facts, message: text }, ...(isError ? { isError } : {}) };
}

/** ask's and get_answer's result: the answer, the failure with its reason, or where the question stands. */
export function answerResult(a: Answer): ToolResult {
  const { asked, state } = a;
  const ids = { queryId: asked.queryId, conversationId: asked.conversationId, messageId: asked.messageId, waitedSeconds: round(a.waitedSeconds), questionRedacted: asked.redacted === true };
  if (state.status === 'answered') {
    const lines = [state.answer];
    if (state.sources.length) lines.push('', `Sources: ${state.sources.join(', ')}`);
    lines.push('', `(query ${asked.queryId}${state.model ? `, model ${state.model}` : ''})`);
    if (asked.redacted) lines.push(REDACTED_NOTE);
    return toolResult(lines.join('\n'), { ...ids, ...state });
  }
  if (state.status === 'failed') {
    const text = `The shard could not answer query ${asked.queryId}: ${state.reason}${state.errorKind ? ` (${state.errorKind})` : ''}. An operator can replay it (\`autopoll replay\`); then get_answer with this query_id returns the new answer.`;
    return toolResult(text, { ...ids, ...state }, true);
  }
  const where = state.status === 'waiting' ? 'it is on the bridge, not yet taken by a shard' : 'a shard has taken it and is answering it';
  const text = `Not answered yet after ${Math.round(a.waitedSeconds)} s: query ${asked.queryId} is ${state.status.replace('_', ' ')} (${where}). Call get_answer with {"query_id": "${asked.queryId}"} to wait for it.`;
  return toolResult(text, { ...ids, ...state });
}

export function shardStatusResult(s: ShardStatus): ToolResult {
  const lines: string[] = [];
  const beat = s.heartbeatAgeSeconds === null ? 'no side-b heartbeat seen' : `side b's last heartbeat ${s.heartbeatAgeSeconds} s ago (${s.heartbeatStatus})`;
  lines.push(`${s.serving ? 'A shard is serving' : 'No shard is serving'} role ${s.role ?? '(unknown)'}: ${beat}.`);
  if (s.bridgeLost) lines.push(`The bridge file can no longer be used: ${s.bridgeLost}.`);
  if (s.conversation) lines.push(`Asking in conversation ${s.conversation.id} (expires ${s.conversation.expiresAt} UTC); ${s.questionsAsked} questions asked since the start.`);
  if (s.fleet?.reachable) {
    const q = s.fleet.queue;
    lines.push(`Queue: ${q.waiting} waiting, ${q.active} active, ${q.delayed} delayed, ${q.failed} failed.`);
    lines.push(`Producers of the role: ${s.fleet.producers.map((p) => `${p.name} on ${p.host}`).join(', ') || 'none'}.`);
    lines.push(`Consumers: ${s.fleet.consumers.map((c) => `${c.name} on ${c.host} (${c.state}, ${c.busy} busy, ${c.liveSessions}/${c.maxSessions} sessions)`).join(', ') || 'none'}.`);
  } else if (s.fleet) {
    lines.push(`Redis not read: ${s.fleet.error}`);
  }
  return toolResult(lines.join('\n'), { ...s });
}

const REDACTED_NOTE = '(The bridge redacted what looked like a secret in the question before the shard read it, as it does for every message.)';

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
