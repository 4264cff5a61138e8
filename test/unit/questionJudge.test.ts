import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ContextReader, type ContextResult } from '../../src/producer/ContextReader.js';
import { judgeRows } from '../../src/producer/QuestionJudge.js';
import type { InboxRow } from '../../src/producer/InboxScanner.js';

/** A real ContextReader over real files that counts how many reads are under way at once. */
class CountingReader extends ContextReader {
  inFlight = 0;
  most = 0;

  override async read(contextFile: string): Promise<ContextResult> {
    this.most = Math.max(this.most, ++this.inFlight);
    try {
      // Each read waits a little, so that an unbounded judge would have them all open together.
      await new Promise((r) => setTimeout(r, 5));
      return await super.read(contextFile);
    } finally {
      this.inFlight--;
    }
  }
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'autopoll-judge-'));
  for (let i = 0; i < 60; i++) await writeFile(join(root, `f${i}.md`), `file ${i}\n`);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const row = (i: number): InboxRow => ({
  id: i + 1,
  conversation_id: 'c',
  from_session: 'a',
  message: JSON.stringify({ type: 'query', query_id: `q${i}`, question: `question ${i}?`, context_file: `f${i}.md` }),
  timestamp: '2026-12-07T00:00:00',
});

it('judges a batch of 60 rows with context files reading at most 8 of them at once, verdicts in row order', async () => {
  const reader = new CountingReader(root, 1_000_000);
  const verdicts = await judgeRows(Array.from({ length: 60 }, (_, i) => row(i)), reader);
  expect(reader.most).toBeGreaterThan(1);
  expect(reader.most).toBeLessThanOrEqual(8);
  expect(verdicts.map((v) => v.row.id)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  expect(verdicts.every((v) => v.accept && v.context?.text.includes(`file ${v.row.id - 1}`))).toBe(true);
});
