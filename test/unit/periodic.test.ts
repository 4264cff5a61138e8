import { describe, expect, it } from 'vitest';
import { Periodic } from '../../src/shared/Periodic.js';

describe('Periodic', () => {
  it('runs a task every tick, one run at a time (a slow run is not stacked), hands a failure to onError, and stop() waits for the run under way', async () => {
    const errors: unknown[] = [];
    const p = new Periodic((err) => errors.push(err));
    let runs = 0;
    let release: (() => void) | undefined;
    p.every(10, () => {
      runs++;
      if (runs === 1) return Promise.reject(new Error('first run fails'));
      return new Promise<void>((resolve) => (release = resolve));
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(errors).toEqual([new Error('first run fails')]);
    expect(runs).toBe(2); // the second run is still under way: no third one stacked behind it
    let stopped = false;
    const stopping = p.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    release!();
    await stopping;
    await new Promise((r) => setTimeout(r, 50));
    expect(runs).toBe(2);
  });

  it('a task that throws at once (before a promise) is a failure handed to onError, not an uncaught throw', async () => {
    const errors: unknown[] = [];
    const p = new Periodic((err) => errors.push(err));
    p.every(10, () => {
      throw new Error('at once');
    });
    await new Promise((r) => setTimeout(r, 50));
    await p.stop();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toEqual(new Error('at once'));
  });
});
