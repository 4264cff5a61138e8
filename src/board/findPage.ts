import { FIND_BOUNDS, FIND_MAX_CHARS } from '../shared/findIndex.js';
import type { FoundJob } from './findJobs.js';
import { boardPage, escapeHtml } from './html.js';

const COLUMNS = ['Query id', 'Message id', 'Conversation', 'Queue', 'Job', 'State'];

const SCOPE = `Questions taken in the last ${FIND_BOUNDS.retentionMs / 86_400_000} days (the newest ${FIND_BOUNDS.questions.toLocaleString('en')}; a conversation's newest ${FIND_BOUNDS.perConversation}). A question rejected when it was taken has no job: it is listed as rejected, and the bridge's ledger has its reason.`;

function row(j: FoundJob): string {
  const cells = [j.queryId ?? '', String(j.messageId), j.conversationId, j.queue ?? ''].map((t) => `<td>${escapeHtml(t)}</td>`);
  cells.push(`<td>${j.url === null || j.jobId === null ? '' : `<a href="${escapeHtml(j.url)}">${escapeHtml(j.jobId)}</a>`}</td>`, `<td>${escapeHtml(j.state)}</td>`);
  return `<tr>${cells.join('')}</tr>`;
}

function results(q: string, jobs: FoundJob[]): string {
  if (!jobs.length) return `<p>Nothing matches ${escapeHtml(JSON.stringify(q))}.</p>`;
  return `<table><thead><tr>${COLUMNS.map((h) => `<th>${h}</th>`).join('')}</tr></thead>
<tbody>${jobs.map(row).join('\n')}</tbody></table>`;
}

/** The search box and what it found (or the 400's reason), in the style of the consumers page. */
export function findPage(o: { q: string; jobs?: FoundJob[]; error?: string | undefined }): string {
  return boardPage({
    title: 'find',
    style: 'input{padding:.3rem;width:24rem}.error{color:#b91c1c}',
    body: `<h1>Find a question</h1>
<form method="get" action="/find"><input name="q" value="${escapeHtml(o.q)}" maxlength="${FIND_MAX_CHARS}" placeholder="query id, message id or conversation id" autofocus> <button>Find</button></form>
<p>${escapeHtml(SCOPE)}</p>
${o.error !== undefined ? `<p class="error">${escapeHtml(o.error)}</p>` : ''}${o.jobs ? results(o.q, o.jobs) : ''}`,
  });
}
