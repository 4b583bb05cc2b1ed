import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { NodeError } from '../../../main/engine/errors.ts';
import { codeNodesOf, documentCodeHash, openTrustStore } from '../../../nodes/_lib/code-trust.ts';
import type { CatalogLike } from '../../../nodes/_lib/code-trust.ts';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import { modelPort } from '../../../nodes/_lib/ports.ts';
import type { ModelValue } from '../../../nodes/_lib/ports.ts';
import { DEFAULT_MODEL_CODE, modelFromCode } from '../../../nodes/model/model-from-code.node.ts';
import { makeContext, setupBackend, tempDir } from '../_ctx.ts';
import { tinyDataset } from './_tiny.ts';

let dataset: Dataset;
beforeAll(async () => {
  await setupBackend();
  dataset = await tinyDataset(16);
});

const allowed = (): ReturnType<typeof makeContext> => Object.assign(makeContext(), { allowCode: true });
async function run(code: string, ctx = allowed()): Promise<ModelValue> {
  return ((await modelFromCode.run({ dataset }, { code, seed: 4 }, ctx)) as { model: ModelValue }).model;
}
async function failure(code: string): Promise<NodeError> {
  const err = await run(code).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(NodeError);
  expect((err as NodeError).where.param).toBe('code');
  return err as NodeError;
}

describe('model-from-code', () => {
  it('refuses to run unless code is allowed, saying how to allow it', async () => {
    const err = await modelFromCode.run({ dataset }, { code: DEFAULT_MODEL_CODE, seed: 1 }, makeContext()).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/--allow-code.*trust prompt/);
  });

  it('builds the default TypeScript snippet for the dataset, reproducibly, without leaks', async () => {
    const before = tf.memory().numTensors;
    const ctx = allowed();
    const a = await run(DEFAULT_MODEL_CODE, ctx);
    expect(a.model.inputs[0].shape).toEqual([null, 12, 12, 3]);
    expect(a.model.outputs[0].shape).toEqual([null, 2]);
    expect(ctx.previews[0]?.kind).toBe('table');
    const b = await run(DEFAULT_MODEL_CODE);
    expect(Array.from(a.model.getWeights()[0].dataSync())).toEqual(Array.from(b.model.getWeights()[0].dataSync()));
    modelPort.dispose!(a);
    modelPort.dispose!(b);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('accepts TypeScript syntax and adds a softmax when the last layer has none', async () => {
    const ctx = allowed();
    const m = await run(
      [
        'const units: number = numClasses;',
        'const m: tf.Sequential = tf.sequential();',
        'm.add(tf.layers.flatten({ inputShape }));',
        'm.add(tf.layers.dense({ units }));',
        'return m;',
      ].join('\n'),
      ctx,
    );
    expect(m.layers.at(-1)?.type).toBe('Activation');
    expect(ctx.logs.some((l) => /softmax was added|one was added/.test(l.message))).toBe(true);
    modelPort.dispose!(m);
  });

  it('points syntax errors at the snippet line', async () => {
    const err = await failure(['const a = 1;', 'const b = ;', 'return a;'].join('\n'));
    expect(err.message).toMatch(/^line 2, column \d+: Expression expected/);
  });

  it('points runtime errors at the snippet line', async () => {
    const err = await failure(['const a = 1;', '', 'const m = tf.layers.nope({});', 'return m;'].join('\n'));
    expect(err.message).toMatch(/^line 3: .*nope/);
  });

  it('explains a missing return, a wrong input shape and a wrong class count', async () => {
    expect((await failure('const m = tf.sequential();')).message).toMatch(/return model;` missing/);
    const wrongIn = await failure('const m = tf.sequential(); m.add(tf.layers.flatten({ inputShape: [8, 8, 3] })); m.add(tf.layers.dense({ units: numClasses, activation: "softmax" })); return m;');
    expect(wrongIn.message).toMatch(/inputs of shape \[8, 8, 3\] but the dataset images are \[12, 12, 3\]/);
    const wrongOut = await failure('const m = tf.sequential(); m.add(tf.layers.flatten({ inputShape })); m.add(tf.layers.dense({ units: 5, activation: "softmax" })); return m;');
    expect(wrongOut.message).toMatch(/outputs shape \[\?, 5\] but should output \[\?, 2\]/);
  });
});

describe('code trust', () => {
  const catalog: CatalogLike = { nodes: [{ id: 'dlflow:model:model-from-code', params: { code: { kind: 'code', language: 'typescript' }, seed: { kind: 'seed' } } }, { id: 'x:other', params: {} }] };
  const doc = (code: string, x = 0): { nodes: { id: string; type: string; params: Record<string, unknown>; position: { x: number; y: number } }[] } => ({
    nodes: [
      { id: 'm', type: 'dlflow:model:model-from-code', params: { code, seed: 1 }, position: { x, y: 0 } },
      { id: 'o', type: 'x:other', params: {}, position: { x: 0, y: 0 } },
    ],
  });

  it('hashes only the code of code nodes', () => {
    expect(codeNodesOf(doc('a'), catalog)).toEqual(['m']);
    expect(documentCodeHash(doc('a'), catalog)).toMatch(/^[0-9a-f]{64}$/);
    expect(documentCodeHash(doc('a', 50), catalog)).toBe(documentCodeHash(doc('a'), catalog));
    expect(documentCodeHash(doc('b'), catalog)).not.toBe(documentCodeHash(doc('a'), catalog));
    expect(documentCodeHash({ nodes: [{ id: 'o', type: 'x:other', params: {} }] }, catalog)).toBeUndefined();
  });

  it('records trust per hash in a file, and a corrupt file trusts nothing', async () => {
    const file = join(tempDir(), 'sub', 'trusted-code.json');
    const store = await openTrustStore(file);
    const h = documentCodeHash(doc('a'), catalog)!;
    expect(store.isTrusted(h)).toBe(false);
    await store.trust(h, '/p/a.dlflow');
    expect((await openTrustStore(file)).isTrusted(h)).toBe(true);
    await store.revoke(h);
    expect((await openTrustStore(file)).isTrusted(h)).toBe(false);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, '{not json');
    expect((await openTrustStore(file)).entries()).toEqual({});
  });
});
