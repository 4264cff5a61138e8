import type { LedgerRow } from '../../bridge/Ledger.js';
import type { Decision } from './replaySelection.js';
import type { ReplayPlan, ReplayResult } from './Replayer.js';

function describe(row: LedgerRow): string {
  const error = row.error_kind ? ` ${row.error_kind}: ${(row.last_error ?? '').slice(0, 80)}` : '';
  return `message ${row.message_id}  conversation ${row.conversation_id}  query ${row.query_id ?? '-'}  failed at ${row.finished_at ?? '-'}${error}`;
}

/** The dry run: what would be replayed, and what would be skipped and why. */
export function planLines(plan: Decision[]): string[] {
  const replays = plan.filter((d) => d.replay);
  const lines = [`would replay ${replays.length} question${replays.length === 1 ? '' : 's'}:`];
  for (const d of replays) lines.push(`  ${describe(d.row)}`);
  for (const d of plan) if (!d.replay) lines.push(`would skip query ${d.row.query_id ?? d.row.message_id}: ${d.reason}`);
  return lines;
}

export function resultLines(skipped: Decision[], results: ReplayResult[], failures: string[]): string[] {
  const lines: string[] = [];
  for (const d of skipped) if (!d.replay) lines.push(`skipped query ${d.row.query_id ?? d.row.message_id}: ${d.reason}`);
  for (const r of results) if (!r.replayed) lines.push(`skipped query ${r.row.query_id ?? r.row.message_id}: ${r.reason}`);
  lines.push(...failures);
  const done = results.filter((r) => r.replayed);
  const rebuilt = done.filter((r) => r.replayed && r.how === 'rebuilt').length;
  const skippedCount = skipped.filter((d) => !d.replay).length + results.length - done.length;
  lines.push(
    `replayed ${done.length} (${done.length - rebuilt} retried, ${rebuilt} rebuilt from the bridge), skipped ${skippedCount}` +
      (failures.length ? `, ${failures.length} failed` : '') +
      (done.length ? '; their answers follow on the bridge (watch with `autopoll status`)' : ''),
  );
  return lines;
}

/** The --query-id ids that selected nothing, each kind on one line (stderr: they make the exit code 1). */
export function unmatchedLines(plan: ReplayPlan, bridgeDb: string): string[] {
  const lines: string[] = [];
  if (plan.notFound.length) lines.push(`not found: ${plan.notFound.join(', ')} (no such query in the ledger of ${bridgeDb}: check the ids, and --bridge-db)`);
  if (plan.notSelected.length) {
    lines.push(`not selected: ${plan.notSelected.join(', ')} (in the ledger, but left out by --conversation, --since, --until or --error-kind)`);
  }
  return lines;
}
