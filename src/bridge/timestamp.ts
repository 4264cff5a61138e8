/**
 * Bridge timestamps: naive UTC ISO 8601 as Python's `datetime.utcnow().isoformat()` prints them.
 * Readers order rows by these strings as text, so the format has to match to the byte, including
 * Python's habit of dropping the fraction when the microsecond is exactly zero.
 */
export function formatBridgeTimestamp(epochMicros: number): string {
  const millis = Math.floor(epochMicros / 1000);
  const micros = epochMicros - millis * 1000;
  const iso = new Date(millis).toISOString(); // 2026-11-22T01:58:36.769Z
  const fraction = (millis % 1000) * 1000 + micros;
  const seconds = iso.slice(0, 19);
  return fraction === 0 ? seconds : `${seconds}.${String(fraction).padStart(6, '0')}`;
}

/** Parses a bridge timestamp (with or without fraction, any precision up to micros) to epoch micros. */
export function parseBridgeTimestamp(text: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/.exec(text);
  if (!m) return undefined;
  const millis = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(millis)) return undefined;
  const fraction = Number((m[2] ?? '').padEnd(6, '0'));
  return millis * 1000 + fraction;
}

/** Milliseconds from a bridge timestamp to `nowMs`; infinitely many for one that does not parse. */
export function msSince(text: string, nowMs = Date.now()): number {
  const micros = parseBridgeTimestamp(text);
  return micros === undefined ? Number.POSITIVE_INFINITY : nowMs - micros / 1000;
}

let lastMicros = 0;

/**
 * Wall-clock microseconds, strictly increasing within this process. Date.now() gives the wall
 * clock (it follows NTP, unlike performance.now over days); hrtime fills in the sub-millisecond
 * digits, and the monotonic bump keeps two rows written in one millisecond in insert order.
 */
export function nowMicros(): number {
  const sub = Number((process.hrtime.bigint() / 1000n) % 1000n);
  let micros = Date.now() * 1000 + sub;
  if (micros <= lastMicros) micros = lastMicros + 1;
  lastMicros = micros;
  return micros;
}

export function bridgeNow(): string {
  return formatBridgeTimestamp(nowMicros());
}
