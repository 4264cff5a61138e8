/**
 * The knobs the knobs benchmark tries, each alone on top of the session's own environment
 * (SESSION_ENV_DEFAULTS, which already sets telemetry, error reporting, the autoupdater,
 * non-essential traffic, CLAUDE.md files, file checkpointing, background tasks and the terminal
 * title off, Bun's GC timer and the FTL JIT off). Environment only: SDK options that have a twin (maxThinkingTokens) are tried as it.
 */
export interface Variant {
  name: string;
  env: Record<string, string>;
}

export const BASELINE: Variant = { name: 'baseline', env: {} };

export const KNOBS: readonly Variant[] = [
  { name: 'thinking off', env: { CLAUDE_CODE_DISABLE_THINKING: '1' } },
  { name: 'thinking 0 tokens', env: { MAX_THINKING_TOKENS: '0' } },
  { name: 'auto-compact off', env: { DISABLE_AUTO_COMPACT: '1' } },
  { name: 'compact off', env: { DISABLE_COMPACT: '1' } },
  { name: 'attachments off', env: { CLAUDE_CODE_DISABLE_ATTACHMENTS: '1' } },
  { name: 'simple mode', env: { CLAUDE_CODE_SIMPLE: '1' } },
  { name: 'installation checks off', env: { DISABLE_INSTALLATION_CHECKS: '1' } },
  { name: 'vitals emitter off', env: { CLAUDE_CODE_DISABLE_VITALS_EMITTER: '1' } },
  { name: 'feature flags off', env: { CLAUDE_CODE_DISABLE_FEATURE_FLAGS: '1' } },
  { name: 'auto memory off', env: { CLAUDE_CODE_DISABLE_AUTO_MEMORY: '1' } },
  { name: 'bundled skills off', env: { CLAUDE_CODE_DISABLE_BUNDLED_SKILLS: '1' } },
  { name: 'file mentions off', env: { CLAUDE_CODE_DISABLE_FILE_MENTIONS: '1' } },
  { name: 'cost warnings off', env: { DISABLE_COST_WARNINGS: '1' } },
  // The runtime's own: the baseline has Bun's GC timer and JavaScriptCore's FTL tier off
  // (SESSION_ENV_DEFAULTS); these show what that saves, and what fewer GC marking threads would
  // (the GC timer matters only while a turn waits: BENCH_KNOBS_LATENCY_MS).
  { name: 'GC timer on', env: { BUN_GC_TIMER_DISABLE: '0' } },
  { name: 'FTL JIT on', env: { BUN_JSC_useFTLJIT: '1' } },
  { name: 'one GC marker', env: { BUN_JSC_numberOfGCMarkers: '1' } },
];

/** Knobs named in BENCH_KNOBS (comma-separated names), else all of them. */
export function selectKnobs(names: readonly string[]): Variant[] {
  if (names.length === 0) return [...KNOBS];
  const unknown = names.filter((n) => !KNOBS.some((k) => k.name === n));
  if (unknown.length) throw new Error(`BENCH_KNOBS: unknown knob(s) ${unknown.join(', ')}; known: ${KNOBS.map((k) => k.name).join(', ')}`);
  return KNOBS.filter((k) => names.includes(k.name));
}
