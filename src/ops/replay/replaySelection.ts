import type { LedgerRow } from '../../bridge/Ledger.js';
import { parseBridgeTimestamp } from '../../bridge/timestamp.js';

/** Which ledger rows a replay is about; every field given must match. */
export interface ReplaySelector {
  failed: boolean;
  queryIds: string[];
  conversation?: string | undefined;
  /** Epoch micros; on the time the error response was written. */
  since?: number | undefined;
  until?: number | undefined;
  errorKind?: string | undefined;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * `--since`/`--until`: an ISO 8601 date or time (UTC when it names no zone, like the bridge's own
 * timestamps) or an age such as `90m`, `2h`, `7d`. Epoch micros, or an error that says what is accepted.
 */
export function parseWhen(text: string, nowMs: number): number | Error {
  const age = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (age) return (nowMs - Number(age[1]) * UNIT_SECONDS[age[2]!]! * 1000) * 1000;
  // Only ISO 8601 reaches Date.parse, which would otherwise read "12" as a year or a space-separated time as local.
  const iso = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/.exec(text.trim());
  const ms = iso ? Date.parse(`${iso[1]}T${iso[2] ?? '00:00'}${iso[3] ?? 'Z'}`) : Number.NaN;
  if (Number.isNaN(ms)) return new Error(`"${text}" is not a time: use an ISO 8601 date or time (2026-11-22, 2026-11-22T08:00, UTC unless zoned) or an age (90m, 2h, 7d)`);
  return ms * 1000;
}

export function hasSelector(s: ReplaySelector): boolean {
  return s.failed || s.queryIds.length > 0 || s.conversation !== undefined || s.since !== undefined || s.until !== undefined || s.errorKind !== undefined;
}

export function matches(row: LedgerRow, s: ReplaySelector): boolean {
  if (s.conversation !== undefined && row.conversation_id !== s.conversation) return false;
  if (s.errorKind !== undefined && row.error_kind !== s.errorKind) return false;
  if (s.since !== undefined || s.until !== undefined) {
    const at = row.finished_at ? parseBridgeTimestamp(row.finished_at) : undefined;
    if (at === undefined) return false;
    if (s.since !== undefined && at < s.since) return false;
    if (s.until !== undefined && at > s.until) return false;
  }
  return true;
}

export type Decision = { row: LedgerRow; replay: true } | { row: LedgerRow; replay: false; reason: string };

/** Only a question that got an error response can be replayed; the others say why not. */
export function decide(row: LedgerRow): Decision {
  switch (row.state) {
    case 'failed':
      return { row, replay: true };
    case 'answered':
      return { row, replay: false, reason: 'already answered' };
    case 'queued':
      return { row, replay: false, reason: 'still queued: it has not failed (yet)' };
    case 'rejected':
      return { row, replay: false, reason: 'rejected when taken: not a usable query, nothing to replay' };
  }
}
