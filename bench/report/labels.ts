/** Names and number formats the report and its charts share. */
import type { ScenarioResult } from '../pipeline.js';
import type { SoakPhase } from './soak.js';

/** `empty bridge`, or `1,000,000 old messages`. */
export function scenarioLabel(s: Pick<ScenarioResult, 'oldMessages'>): string {
  return s.oldMessages > 0 ? `${s.oldMessages.toLocaleString('en-US')} old messages` : 'empty bridge';
}

/** A soak phase's name: `stub answerer`, `Claude Code`. */
export function soakPhaseLabel(p: Pick<SoakPhase, 'name'>): string {
  return p.name === 'stub' ? 'stub answerer' : p.name === 'claude' ? 'Claude Code' : p.name;
}

/** A number with thousands separators and at most `digits` decimals; `-` for none. */
export function num(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}
