import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, recordingSink, type Engine, type RecordingSink } from '../../main/engine/index.ts';
import { graph, runs, stubNodes, stubPortTypes } from './_stubs.ts';

let cacheDir: string;
let sink: RecordingSink;
let engine: Engine;
let runCounter = 0;

const open = async (extra: Partial<Parameters<typeof createEngine>[0]> = {}): Promise<Engine> =>
  createEngine({ nodes: stubNodes, portTypes: stubPortTypes, sink, cacheDir, backend: 'cpu', progressIntervalMs: 0, ...extra });
const run = (e: Engine, doc: ReturnType<ReturnType<typeof graph>['doc']>, options = {}) =>
  e.run({ document: doc, options, runId: `r${++runCounter}` });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'dlflow-engine-'));
  sink = recordingSink();
  for (const k of Object.keys(runs)) delete runs[k];
  engine = await open();
});

afterEach(async () => {
  await engine.dispose();
  await rm(cacheDir, { recursive: true, force: true });
});

const chain = (bias = 0) =>
  graph()
    .node('a', 'constant', { value: 2 })
    .node('b', 'add', { bias })
    .node('c', 'add', { bias: 10 })
    .edge('a.out', 'b.a')
    .edge('b.out', 'c.a')
    .doc();

describe('executor', () => {
  it('runs in topological order and reports what ran, then serves a second run from cache', async () => {
    const result = await run(engine, chain());
    expect(result.status).toBe('done');
    expect(sink.ran()).toEqual(['a', 'b', 'c']);
    expect(sink.of('node-finished').find((e) => e.nodeId === 'c')?.summary).toBe('sum 12');
    sink.clear();
    const again = await run(engine, chain());
    expect(again.status).toBe('done');
    expect(sink.ran()).toEqual([]);
    expect(sink.cached()).toEqual(['a', 'b', 'c']);
    expect(sink.of('run-finished')[0].nodes).toEqual({ a: 'cached', b: 'cached', c: 'cached' });
  });

  it('re-runs only what is downstream of a changed param', async () => {
    await run(engine, chain(0));
    sink.clear();
    await run(engine, chain(5));
    expect(sink.ran()).toEqual(['b', 'c']);
    expect(sink.cached()).toEqual(['a']);
  });

  it('--no-cache runs everything again', async () => {
    await run(engine, chain());
    sink.clear();
    await run(engine, chain(), { noCache: true });
    expect(sink.ran()).toEqual(['a', 'b', 'c']);
  });

  it('a second process reuses persisted outputs from the disk cache', async () => {
    await run(engine, chain());
    await engine.dispose();
    sink.clear();
    engine = await open();
    const result = await run(engine, chain());
    expect(result.status).toBe('done');
    expect(sink.ran()).toEqual([]);
    expect(sink.of('nodes-cached')[0].fromDisk).toEqual(['a', 'b', 'c']);
  });

  it('runs only what the targets need', async () => {
    const doc = graph().node('a', 'constant').node('b', 'add').node('x', 'constant', { value: 9 }).edge('a.out', 'b.a').doc();
    await run(engine, doc, { targets: ['b'] });
    expect(sink.ran()).toEqual(['a', 'b']);
  });

  it('a failing node names itself and its param; its downstream is skipped, other branches finish', async () => {
    const doc = graph()
      .node('f', 'fail', { reason: 'bad data' })
      .node('after', 'add')
      .node('ok', 'constant', { value: 3 })
      .node('ok2', 'add')
      .edge('f.out', 'after.a')
      .edge('ok.out', 'ok2.a')
      .doc();
    const result = await run(engine, doc);
    expect(result.status).toBe('failed');
    const failed = sink.of('node-failed');
    expect(failed).toHaveLength(1);
    expect(failed[0].nodeId).toBe('f');
    expect(failed[0].error.message).toBe('node "f" (test:stub:fail): param "reason": failed because bad data');
    expect(failed[0].error.param).toBe('reason');
    expect(result.error).toContain('node "f"');
    expect(sink.ran()).toEqual(['ok', 'ok2']);
    expect(sink.of('run-finished')[0].nodes).toMatchObject({ f: 'failed', after: 'skipped', ok: 'done', ok2: 'done' });
  });

  it('an invalid document fails before anything runs', async () => {
    const doc = graph().node('a', 'constant', { value: 5000 }).doc();
    const result = await run(engine, doc);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/"value".*5000/);
    expect(sink.ran()).toEqual([]);
  });

  it('cancel stops a running node promptly and caches nothing from it', async () => {
    const doc = graph().node('a', 'constant').node('s', 'slow', { steps: 500, ms: 10 }).node('after', 'add').edge('a.out', 's.a').edge('s.out', 'after.a').doc();
    const runId = 'cancel-me';
    const pending = engine.run({ document: doc, runId });
    await new Promise<void>((resolve) => {
      const off = engine.onEvent((e) => {
        if (e.type === 'node-progress' && e.nodeId === 's') {
          off();
          resolve();
        }
      });
    });
    const t0 = performance.now();
    expect(await engine.cancel({ runId })).toEqual({ cancelled: true });
    const result = await pending;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(result.status).toBe('cancelled');
    expect(sink.of('run-finished')[0].nodes).toMatchObject({ a: 'done', s: 'cancelled', after: 'cancelled' });
    // Nothing half-written: the slow node has no disk entry, the finished one has.
    const entries = readdirSync(join(cacheDir, 'outputs'));
    expect(entries).toHaveLength(1);
    expect(entries.some((n) => n.includes('.tmp'))).toBe(false);
    sink.clear();
    await run(engine, graph().node('a', 'constant').node('s', 'slow', { steps: 2, ms: 1 }).edge('a.out', 's.a').doc());
    expect(sink.cached()).toEqual(['a']);
  });

  it('rejects a second concurrent run with a clear error', async () => {
    const doc = graph().node('s', 'slow', { steps: 50, ms: 5 }).doc();
    const first = engine.run({ document: doc, runId: 'one' });
    await expect(engine.run({ document: doc, runId: 'two' })).rejects.toThrow(/already in progress/);
    await engine.cancel({ runId: 'one' });
    await first;
  });

  it('throttles progress per node but always delivers the final value', async () => {
    await engine.dispose();
    engine = await open({ progressIntervalMs: 10_000 });
    await run(engine, graph().node('s', 'slow', { steps: 30, ms: 1 }).doc());
    const progress = sink.of('node-progress');
    expect(progress.length).toBeLessThanOrEqual(3);
    expect(progress.at(-1)?.fraction).toBe(1);
  });

  it('does not leak tensors across repeated runs, param changes and eviction', async () => {
    const before = tf.memory().numTensors;
    const doc = (k: number) => graph().node('t', 'make-tensor', { size: 1000 }).node('s', 'scale-tensor', { k }).edge('t.out', 's.x').doc();
    for (let i = 0; i < 3; i++) await run(engine, doc(2));
    expect(tf.memory().numTensors).toBe(before + 2);
    await run(engine, doc(2), { noCache: true });
    expect(tf.memory().numTensors).toBe(before + 2);
    await run(engine, doc(3));
    expect(tf.memory().numTensors).toBe(before + 3); // the old scale output is kept for undo, within budget
    await engine.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('evicts least recently used entries beyond the memory budget and disposes them', async () => {
    await engine.dispose();
    engine = await open({ memoryBudgetBytes: 4000 * 4 });
    const before = tf.memory().numTensors;
    for (const seed of [1, 2, 3, 4, 5]) await run(engine, graph().node('t', 'make-tensor', { size: 1000, seed }).doc());
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(4);
    sink.clear();
    await run(engine, graph().node('t', 'make-tensor', { size: 1000, seed: 1 }).doc());
    expect(sink.ran()).toEqual(['t']); // seed 1 was evicted
  });

  it('writes disk entries atomically: no temp folders are left behind', async () => {
    await run(engine, chain());
    const names = readdirSync(join(cacheDir, 'outputs'));
    expect(names).toHaveLength(3);
    for (const n of names) expect(existsSync(join(cacheDir, 'outputs', n, 'entry.json'))).toBe(true);
  });
});

describe('run up to the selected nodes', () => {
  it('ignores problems outside what the targets need', async () => {
    const doc = graph()
      .node('a', 'constant')
      .node('b', 'add')
      .node('broken', 'add', { bias: 'not a number' }) // and its required input is unwired
      .edge('a.out', 'b.a')
      .doc();
    const whole = await run(engine, doc);
    expect(whole.status).toBe('failed');
    expect(whole.error).toMatch(/"broken"/);
    sink.clear();
    const part = await run(engine, doc, { targets: ['b'] });
    expect(part.status).toBe('done');
    expect(sink.ran()).toEqual(['a', 'b']);
  });

  it('an unknown target is a clear error', async () => {
    await expect(run(engine, chain(), { targets: ['nope'] })).rejects.toThrow('no node with id "nope"');
  });
});
