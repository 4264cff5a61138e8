/** What one check says: ok, a warning, a failure, or not checked. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One line of `autopoll doctor`, or one entry of /readyz. */
export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a warning or failure: a command, a flag, a config line. */
  fix?: string;
}

/**
 * One probe of a part. A probe may report several lines: one Redis connection answers for
 * reachability, eviction and persistence. `timeoutMs` bounds it, so a dead service cannot hang
 * the caller; on timeout `signal` aborts, for the probe to close what it opened.
 */
export interface Check {
  name: string;
  timeoutMs: number;
  /** The fix given when the probe times out. */
  timeoutFix?: string;
  run: (signal: AbortSignal) => Promise<CheckResult[]>;
}

export const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
export const skip = (name: string, detail: string): CheckResult => ({ name, status: 'skip', detail });
export const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'warn', detail, fix });
export const fail = (name: string, detail: string, fix?: string): CheckResult => ({ name, status: 'fail', detail, ...(fix ? { fix } : {}) });

/** How a runner words the checks that did not answer: people read the doctor's, orchestrators /readyz's. */
export interface FailureWording {
  timedOut: (timeoutMs: number) => string;
  threw: (err: unknown) => string;
}

/**
 * Runs every check at once (they probe different things) and returns their lines in the order
 * of `checks`. A check that throws (even before its first await) or outlives its timeout becomes
 * one failed line, so the caller always gets an answer that says which part did not give one.
 */
export async function runChecks(checks: readonly Check[], wording: FailureWording): Promise<CheckResult[]> {
  return (await Promise.all(checks.map((check) => runOne(check, wording)))).flat();
}

async function runOne(check: Check, wording: FailureWording): Promise<CheckResult[]> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<CheckResult[]>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve([fail(check.name, wording.timedOut(check.timeoutMs), check.timeoutFix)]);
    }, check.timeoutMs);
  });
  const ran = Promise.resolve()
    .then(() => check.run(abort.signal))
    .catch((err: unknown) => [fail(check.name, wording.threw(err))]);
  try {
    return await Promise.race([ran, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
