import { describe, expect, it } from 'vitest';
import { AsyncQueue } from '../../src/consumer/claude/AsyncQueue.js';

async function collect<T>(q: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of q) out.push(item);
  return out;
}

/** Lets pending promise callbacks and the generator run. */
function tick(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

describe('AsyncQueue', () => {
  it('delivers items pushed before iteration starts, in order, then ends', async () => {
    const q = new AsyncQueue<number>();
    q.push(1);
    q.push(2);
    q.push(3);
    q.end();
    expect(await collect(q)).toEqual([1, 2, 3]);
  });

  it('delivers items pushed after iteration starts', async () => {
    const q = new AsyncQueue<string>();
    const done = collect(q);
    await tick();
    q.push('a');
    await tick();
    q.push('b');
    q.push('c');
    await tick();
    q.end();
    expect(await done).toEqual(['a', 'b', 'c']);
  });

  it('mixes items pushed before and after iteration starts, in order', async () => {
    const q = new AsyncQueue<number>();
    q.push(1);
    q.push(2);
    const done = collect(q);
    await tick();
    q.push(3);
    await tick();
    q.push(4);
    q.end();
    expect(await done).toEqual([1, 2, 3, 4]);
  });

  it('delivers every item pushed before end(), even pushed in the same tick as end()', async () => {
    const q = new AsyncQueue<number>();
    const done = collect(q);
    await tick();
    for (let i = 0; i < 100; i++) q.push(i);
    q.end();
    expect(await done).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('an ended empty queue yields nothing', async () => {
    const q = new AsyncQueue<number>();
    q.end();
    expect(await collect(q)).toEqual([]);
  });

  it('end() while iteration waits finishes it', async () => {
    const q = new AsyncQueue<number>();
    let finished = false;
    const done = collect(q).then((items) => {
      finished = true;
      return items;
    });
    await tick();
    expect(finished).toBe(false);
    q.end();
    expect(await done).toEqual([]);
    expect(finished).toBe(true);
  });

  it('does not finish before end(): the iteration waits for more items', async () => {
    const q = new AsyncQueue<number>();
    const seen: number[] = [];
    let finished = false;
    const done = (async () => {
      for await (const item of q) seen.push(item);
      finished = true;
    })();
    q.push(1);
    await tick();
    await tick();
    expect(seen).toEqual([1]);
    expect(finished).toBe(false);
    q.push(2);
    await tick();
    expect(seen).toEqual([1, 2]);
    expect(finished).toBe(false);
    q.end();
    await done;
    expect(finished).toBe(true);
  });

  it('each item is delivered once, as soon as it is pushed to a waiting consumer', async () => {
    const q = new AsyncQueue<{ n: number }>();
    const it = q[Symbol.asyncIterator]();
    const first = it.next();
    const a = { n: 1 };
    q.push(a);
    const r1 = await first;
    expect(r1.done).toBe(false);
    expect(r1.value).toBe(a);
    const second = it.next();
    q.push({ n: 2 });
    expect((await second).value).toEqual({ n: 2 });
    q.end();
    expect((await it.next()).done).toBe(true);
  });

  it('next() after the end stays done', async () => {
    const q = new AsyncQueue<number>();
    q.push(1);
    q.end();
    const it = q[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 1, done: false });
    expect((await it.next()).done).toBe(true);
    expect((await it.next()).done).toBe(true);
  });
});
