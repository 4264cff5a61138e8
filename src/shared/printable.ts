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
 * A string another process wrote where anyone with access to Redis could have (a presence entry),
 * made printable for `status` and the board: it cannot forge lines, move the cursor or flood.
 */
export const printable = (max: number, min = 0) =>
  z
    .string()
    .min(min)
    .transform((text) => printableLine(text, max));
