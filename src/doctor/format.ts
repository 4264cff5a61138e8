import type { CheckResult, CheckStatus } from '../shared/checks.js';

// FAIL in capitals: the line to look at first when scanning the output.
const LABEL: Record<CheckStatus, string> = { ok: 'ok', warn: 'warn', fail: 'FAIL', skip: 'skip' };
const STATUS_WIDTH = 6;
const NAME_WIDTH = 13;
const INDENT = ' '.repeat(STATUS_WIDTH + NAME_WIDTH);

/**
 * The text report: one line per result, `status  name  detail`, a failure's or warning's fix on
 * an indented line below it, and a closing summary. Pure, so the layout is unit-tested.
 */
export function formatReport(results: readonly CheckResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const name = r.name.length < NAME_WIDTH ? r.name.padEnd(NAME_WIDTH) : `${r.name} `;
    lines.push(`${LABEL[r.status].padEnd(STATUS_WIDTH)}${name}${oneLine(r.detail)}`);
    if (r.fix) lines.push(...r.fix.split('\n').map((l, i) => `${INDENT}${i === 0 ? 'fix: ' : '     '}${l.trim()}`));
  }
  lines.push('', summary(results));
  return `${lines.join('\n')}\n`;
}

/** `--json`: the results as an array of {name, status, detail, fix?}. */
export function formatJson(results: readonly CheckResult[]): string {
  return `${JSON.stringify(results.map(({ name, status, detail, fix }) => ({ name, status, detail, ...(fix ? { fix } : {}) })), null, 2)}\n`;
}

export function summary(results: readonly CheckResult[]): string {
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  const [fails, warns, oks, skips] = [count('fail'), count('warn'), count('ok'), count('skip')];
  const parts = [
    fails ? `${fails} failed` : '',
    warns ? `${warns} ${warns === 1 ? 'warning' : 'warnings'}` : '',
    `${oks} ok`,
    skips ? `${skips} skipped` : '',
  ].filter(Boolean);
  return fails ? `${parts.join(', ')}: fix the FAIL lines and run autopoll doctor again` : `${parts.join(', ')}: nothing failed`;
}

/** 1 when anything failed; warnings and skips do not fail the doctor. */
export function doctorExitCode(results: readonly CheckResult[]): 0 | 1 {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

// A detail is one line of the report; multi-line causes (stderr tails) are joined.
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' | ').trim();
}
