import { z } from 'zod';

/**
 * Control characters (escape sequences, newlines, C1) and the bidirectional overrides that make a
 * terminal line say something else than its bytes.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` as one plain line of at most `max` characters: what a terminal shows as written. */
export function printableLine(text: string, max: number): string {
  const line = text.replace(UNPRINTABLE, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * JSON of `value` that a terminal shows as written: JSON.stringify escapes C0 controls but leaves
 * DEL, C1 controls (an 8-bit CSI moves the cursor) and the bidirectional overrides raw; they are
 * written as \u escapes, so the text parses to the same value.
 */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A string another process wrote where anyone with access to Redis could have (a presence entry),
 * made printable for `status` and the board: it cannot forge lines, move the cursor or flood.
 */
export const printable = (max: number, min = 0) =>
  z
    .string()
    .min(min)
    .transform((text) => printableLine(text, max));
