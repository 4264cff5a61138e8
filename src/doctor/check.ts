import { runChecks, type Check, type CheckResult, type FailureWording } from '../shared/checks.js';

/** An error's message, or its errno code when that says more (ECONNREFUSED rather than ""). */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  if (!err.message) return code ?? err.name;
  return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}

/** The doctor's lines for a check that gave no answer: for people, in seconds, saying the check itself failed. */
const DOCTOR_WORDING: FailureWording = {
  timedOut: (ms) => `no answer within ${ms / 1000} s`,
  threw: (err) => `the check itself failed: ${errorText(err)}`,
};

/** The doctor's checks, at once, in the order given; one that throws or times out is one failed line. */
export function runDoctorChecks(checks: readonly Check[]): Promise<CheckResult[]> {
  return runChecks(checks, DOCTOR_WORDING);
}
