/**
 * The longest message text the bridge's MCP tools take (docs/bridge/PROTOCOL.md), counted on the
 * stored text: askers' clients may refuse more. `ask` refuses a longer query; the producer cuts a
 * longer answer.
 */
export const MAX_MESSAGE_CHARS = 50_000;

/** An asker counts its partner alive while the partner's heartbeat is younger than this (PROTOCOL.md). */
export const SIDE_ALIVE_MS = 120_000;
