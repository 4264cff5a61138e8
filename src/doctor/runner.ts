import { errorText, fail, type Check, type CheckResult } from './check.js';

/**
 * Runs every check at once (they probe different things) and returns their lines in the order
 * of `checks`. A check that throws or outlives its timeout becomes one failed line: the doctor
 * always finishes, and always says which part did not.
 */
export async function runChecks(checks: readonly Check[]): Promise<CheckResult[]> {
  return (await Promise.all(checks.map(runOne))).flat();
}

async function runOne(check: Check): Promise<CheckResult[]> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<CheckResult[]>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve([fail(check.name, `no answer within ${check.timeoutMs / 1000} s`, check.timeoutFix)]);
    }, check.timeoutMs);
  });
  const ran = check.run(abort.signal).catch((err: unknown) => [fail(check.name, `the check itself failed: ${errorText(err)}`)]);
  try {
    return await Promise.race([ran, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
