/** What one line of `autopoll doctor` says: ok, a warning, a failure (exit code 1), or not checked. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a warning or failure: a command, a flag, a config line. */
  fix?: string;
}

/**
 * One probe of the setup. A probe may report several lines: one Redis connection answers for
 * reachability, eviction and persistence. `timeoutMs` bounds it, so a dead service cannot hang
 * the doctor; on timeout `signal` aborts, for the probe to close what it opened.
 */
export interface Check {
  name: string;
  timeoutMs: number;
  /** The fix printed when the probe times out. */
  timeoutFix?: string;
  run: (signal: AbortSignal) => Promise<CheckResult[]>;
}

export const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
export const skip = (name: string, detail: string): CheckResult => ({ name, status: 'skip', detail });
export const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'warn', detail, fix });
export const fail = (name: string, detail: string, fix?: string): CheckResult => ({ name, status: 'fail', detail, ...(fix ? { fix } : {}) });

/** An error's message, or its errno code when that says more (ECONNREFUSED rather than ""). */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  if (!err.message) return code ?? err.name;
  return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}
