import { describe, expect, it } from 'vitest';
import { ok, runChecks, type Check } from '../../src/shared/checks.js';

const WORDING = { timedOut: (ms: number) => `timed out after ${ms}`, threw: (err: unknown) => `threw ${String(err)}` };

describe('runChecks', () => {
  it("words a timeout and a throw as the caller says, the timeout's fix attached; a throw before any await fails alone", async () => {
    const slow: Check = { name: 'slow', timeoutMs: 50, timeoutFix: 'wait less', run: () => new Promise(() => undefined) };
    const sync: Check = { name: 'sync', timeoutMs: 1000, run: () => { throw new Error('at once'); } };
    const fine: Check = { name: 'fine', timeoutMs: 1000, run: async () => [ok('fine', 'yes')] };
    expect(await runChecks([slow, sync, fine], WORDING)).toEqual([
      { name: 'slow', status: 'fail', detail: 'timed out after 50', fix: 'wait less' },
      { name: 'sync', status: 'fail', detail: 'threw Error: at once' },
      ok('fine', 'yes'),
    ]);
  });
});
