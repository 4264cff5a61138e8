import { sessionsShown, type ConsumerInfo } from '../shared/ConsumerPresence.js';
import { formatDuration } from '../shared/duration.js';
import { PRESENCE_INTERVAL_MS, PRESENCE_STALE_MS } from '../shared/Presence.js';
import { boardPage, escapeHtml } from './html.js';

/** Reloaded as often as consumers refresh their presence: each refresh shows, without a script. */
const RELOAD_SECONDS = PRESENCE_INTERVAL_MS / 1000;

const COLUMNS = ['Name', 'Host', 'PID', 'Answerer', 'State', 'Sessions (live/max)', 'Busy', 'Seen'];

function row(c: ConsumerInfo, now: number): string {
  const cells = [c.name, c.host, String(c.pid), c.answerer, c.state, sessionsShown(c), String(c.busy), `${formatDuration((now - c.seenAt) / 1000)} ago`];
  return `<tr>${cells.map((t) => `<td>${escapeHtml(t)}</td>`).join('')}</tr>`;
}

/** The consumers Bull Board cannot show (it knows queues and workers, not sessions): the rows of `autopoll status`. */
export function consumersPage(consumers: ConsumerInfo[], now: number): string {
  // A reason (with its fix) is too long for a cell: one line each, under the table, as status prints it.
  const reasons = consumers.filter((c) => c.state !== 'running').map((c) => `<li>${escapeHtml(`${c.name} ${c.state}: ${c.reason ?? 'no reason given'}`)}</li>`);
  return boardPage({
    title: 'consumers',
    head: `<meta http-equiv="refresh" content="${RELOAD_SECONDS}">`,
    style: 'td:nth-child(6){font-variant-numeric:tabular-nums}',
    body: `<h1>Consumers: ${consumers.length}</h1>
${consumers.length === 0 ? `<p>None seen in the last ${PRESENCE_STALE_MS / 1000} s.</p>` : `<table><thead><tr>${COLUMNS.map((h) => `<th>${h}</th>`).join('')}</tr></thead>
<tbody>${consumers.map((c) => row(c, now)).join('\n')}</tbody></table>`}
${reasons.length ? `<ul>${reasons.join('')}</ul>` : ''}`,
  });
}
