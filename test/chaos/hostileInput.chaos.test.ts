import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tempDir } from '../support/bridge.js';
import { errorLines, stopAll, type AutopollProcess } from '../support/cli.js';
import { SpawnedPipeline } from '../support/spawnedPipeline.js';
import { waitFor } from '../support/wait.js';
import { expectBridgeRowsValid, insertRaw } from './support/bridgeRows.js';
import { everyRareKind, materialize, rowSpec, type Expected, type RowSpec } from './support/hostileInput.js';
import { ProcessMarker } from '../support/leftovers.js';

/** More with CHAOS_HOSTILE_BATCHES; a failure prints its seed, which CHAOS_SEED replays. */
const BATCHES = Number(process.env.CHAOS_HOSTILE_BATCHES ?? 16);
const ROWS_PER_BATCH = 50;
const SEED = process.env.CHAOS_SEED ? { seed: Number(process.env.CHAOS_SEED) } : {};

/**
 * Chaos scenario 5: property-based hostile input. Random bodies (any text, JSON of any shape, deep
 * and huge JSON, wrong types for the query's fields, lone surrogates, RTL and emoji, NUL bytes,
 * 10 MB rows, BLOBs) written as side a's rows, valid queries mixed in, against the spawned
 * producer and a stub consumer. Whatever comes, the producer keeps running and answering.
 */
describe('chaos: hostile rows on the bridge never stop the producer', () => {
  const marker = new ProcessMarker();
  const pipeline = new SpawnedPipeline(['--redis', inject('redisUrl')], marker.env);
  const contextRoot = tempDir('autopoll-hostile-ctx-');
  let producer: AutopollProcess;
  let consumer: AutopollProcess;
  let healthz: string;
  let uid = 0;
  /** Every row inserted so far, with what must become of it. */
  const inserted: Array<{ id: number; spec: RowSpec; expected: Expected }> = [];

  beforeAll(async () => {
    writeFileSync(join(contextRoot, 'notes.md'), 'line one\nline two\n');
    ({ producer, consumer } = await pipeline.start({ producer: ['--context-root', contextRoot, '--port', '0'] }));
    const listening = await producer.waitForLog(/^operator server listening$/);
    healthz = `${String(listening.url)}healthz`;
  });

  afterAll(async () => {
    const left = await stopAll(pipeline.procs, marker);
    pipeline.bridge.close();
    expect(left, 'processes left behind').toEqual([]);
  });

  /** The producer process runs and its /healthz answers. */
  async function expectProducerUp(): Promise<void> {
    expect(producer.child.exitCode, `producer exited; stderr: ${producer.stderr.slice(-2000)}`).toBeNull();
    expect(producer.child.signalCode).toBeNull();
    expect(consumer.child.exitCode).toBeNull();
    const res = await fetch(healthz);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', pid: producer.child.pid });
  }

  const asStored = (text: string): string => (pipeline.bridge.db.prepare('SELECT ? AS v').get(text) as { v: string }).v;

  /** The outcome of every row so far, checked against what it must be. */
  function expectOutcomes(): void {
    const responses = pipeline.bridge.responses(pipeline.conv.id);
    const byQuery = new Map<string, typeof responses>();
    for (const r of responses) byQuery.set(String(r.body.query_id), [...(byQuery.get(String(r.body.query_id)) ?? []), r]);
    const owed = inserted.filter((r) => r.expected.kind !== 'silent');
    expect(responses.length, 'responses: one per valid query and per invalid one with a usable query_id, no more').toBe(owed.length);
    for (const { id, spec, expected } of inserted) {
      const where = `message ${id} ${JSON.stringify(spec).slice(0, 300)}`;
      const ledger = pipeline.bridge.ledger(id);
      expect(ledger, where).toBeDefined();
      if (expected.kind === 'silent') {
        expect(ledger, where).toMatchObject({ state: 'rejected', query_id: null, response_message_id: null });
        continue;
      }
      const mine = byQuery.get(expected.queryId) ?? [];
      expect(mine.length, `${where}: responses to ${JSON.stringify(expected.queryId)}`).toBe(1);
      const response = mine[0]!;
      expect(ledger!.response_message_id, where).toBe(response.id);
      // The ledger holds the id as SQLite stores text: a lone surrogate comes back as U+FFFDs.
      expect(ledger!.query_id, where).toBe(asStored(expected.queryId));
      if (expected.kind === 'answered') {
        expect(ledger!.state, where).toBe('answered');
        expect(response.body.error, where).toBeUndefined();
        expect(response.body.answer, where).toBe(`Stub answer to ${expected.queryId}.`);
      } else {
        expect(ledger!.state, where).toBe('rejected');
        expect(response.body.error, where).toMatchObject({ kind: 'rejected', message: expect.any(String) });
        expect(String(response.body.answer), where).toMatch(/^autopoll could not answer this query \(rejected\): /);
      }
    }
  }

  it(`${BATCHES} batches of ${ROWS_PER_BATCH} random rows: each ends in a ledger state, valid ones answered once, invalid ones told once`, async () => {
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.array(rowSpec, { minLength: ROWS_PER_BATCH, maxLength: ROWS_PER_BATCH }), async (batch) => {
        const rows = batch.map((spec) => {
          const m = materialize(spec, ++uid, 'notes.md');
          const row = { id: insertRaw(pipeline.bridge, pipeline.conv.id, m.message), spec, expected: m.expected };
          inserted.push(row);
          return row;
        });
        await waitFor(
          'every row of the batch in a final ledger state',
          () => rows.every((r) => ['answered', 'failed', 'rejected'].includes(String(pipeline.bridge.ledger(r.id)?.state))),
          60_000,
          50,
        );
        // An answer or an error response that came twice would show by now.
        await new Promise((r) => setTimeout(r, 300));
        expectOutcomes();
        expectBridgeRowsValid(pipeline.bridge, pipeline.conv.id);
        await expectProducerUp();
        expect(errorLines(producer), 'producer error lines').toEqual([]);
        expect(errorLines(consumer), 'consumer error lines').toEqual([]);
      }),
      // The first batch holds every rare kind (10 MB rows, 10,000-deep JSON, NUL, BLOB...); no
      // shrinking: the system under test keeps its state from one batch to the next.
      { numRuns: BATCHES, examples: [[everyRareKind()]], endOnFailure: true, ...SEED },
    );
    const kinds = new Set(inserted.map((r) => r.spec.kind));
    expect(inserted.length).toBeGreaterThanOrEqual(BATCHES * ROWS_PER_BATCH);
    expect([...kinds].sort()).toEqual(['blob', 'boundary', 'deep', 'flawed', 'huge', 'json', 'noType', 'nul', 'number', 'otherType', 'surrogate', 'text', 'valid', 'badId'].sort());
    const states = inserted.map((r) => String(pipeline.bridge.ledger(r.id)?.state));
    console.log(
      `hostile input: ${inserted.length} rows in ${Math.round((Date.now() - started) / 1000)} s; ledger ${JSON.stringify(Object.fromEntries(['answered', 'rejected', 'failed'].map((s) => [s, states.filter((x) => x === s).length])))}, ${inserted.filter((r) => r.expected.kind === 'rejected').length} error responses`,
    );
    // Still serving after all of it: a plain question is answered.
    const good = pipeline.bridge.ask(pipeline.conv.id, 'q_after_all', 'still there?');
    await waitFor('answer after the hostile rows', () => pipeline.bridge.ledger(good)?.state === 'answered', 30_000, 50);
    expectBridgeRowsValid(pipeline.bridge, pipeline.conv.id);
    await expectProducerUp();
  });
});
