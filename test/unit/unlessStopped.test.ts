import { describe, expect, it } from 'vitest';
import { unlessStopped } from '../../src/shared/closing.js';

describe('unlessStopped', () => {
  it('is the promise while nothing stops it', async () => {
    const stopping = new AbortController();
    await expect(unlessStopped(Promise.resolve('session'), stopping.signal)).resolves.toBe('session');
    await expect(unlessStopped(Promise.reject(new Error('did not start')), stopping.signal)).rejects.toThrow('did not start');
    await expect(unlessStopped(Promise.resolve('session'), undefined)).resolves.toBe('session');
  });

  it('rejects as the stop comes, or at once when it came before, without waiting for the promise', async () => {
    const stopping = new AbortController();
    const never = new Promise<string>(() => undefined);
    const waiting = unlessStopped(never, stopping.signal);
    stopping.abort();
    await expect(waiting).rejects.toThrow('the consumer is shutting down');
    await expect(unlessStopped(never, stopping.signal)).rejects.toThrow('the consumer is shutting down');
  });
});
