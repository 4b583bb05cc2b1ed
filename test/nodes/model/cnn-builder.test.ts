import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { NodeError } from '../../../main/engine/errors.ts';
import { resolveParams } from '../../../main/engine/params.ts';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import { modelPort } from '../../../nodes/_lib/ports.ts';
import type { ModelValue } from '../../../nodes/_lib/ports.ts';
import { INITIALIZERS, cnnBuilder, parseDenseSizes, plannedSizes } from '../../../nodes/model/cnn-builder.node.ts';
import { makeContext, setupBackend } from '../_ctx.ts';
import { tinyDataset } from './_tiny.ts';

let dataset: Dataset;
beforeAll(async () => {
  await setupBackend();
  dataset = await tinyDataset(16);
});

const defaults = resolveParams(cnnBuilder.params, {}).values;
async function build(p: Record<string, unknown> = {}, ctx = makeContext({ seed: Number(p.seed ?? 1) })): Promise<ModelValue> {
  const out = await cnnBuilder.run({ dataset }, { ...defaults, blocks: 2, filters: 4, dense: '8', ...p }, ctx);
  return (out as { model: ModelValue }).model;
}
const kernelOf = (m: ModelValue, name: string): Float32Array => m.model.getLayer(name).getWeights()[0].dataSync() as Float32Array;

describe('cnn-builder', () => {
  it('builds conv → BN → activation → pool blocks with a global-average head, and previews the table first', async () => {
    const before = tf.memory().numTensors;
    const ctx = makeContext();
    const m = await build({}, ctx);
    expect(m.layers.map((l) => l.type)).toEqual([
      'Conv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D',
      'Conv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D',
      'GlobalAveragePooling2D', 'Dense', 'Dropout', 'Dense',
    ]);
    expect(m.layers[4].outputShape).toBe('[?, 6, 6, 8]');
    expect(m.layers[0].params).toBe(3 * 3 * 3 * 4); // no bias before batch norm
    const table = ctx.previews[0];
    expect(table.kind).toBe('table');
    if (table.kind !== 'table') return;
    expect(table.title).toMatch(/parameters · training ≈ .* per batch of 32/);
    expect(table.rows.length).toBe(m.layers.length);
    const y = tf.tidy(() => (m.model.predict(tf.zeros([2, 12, 12, 3])) as tf.Tensor).sum(-1).dataSync());
    expect(y[0]).toBeCloseTo(1, 5);
    expect(cnnBuilder.preview!({ model: m }, defaults as never)).toMatchObject({ kind: 'table' });
    modelPort.dispose!(m);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('supports flatten, no pooling, strides, valid padding, several convs per block and no BN', async () => {
    const m = await build({ head: 'flatten', pooling: 'none', padding: 'valid', convsPerBlock: 2, batchNorm: false, dense: '', blockDropout: 0.1 });
    expect(m.layers.map((l) => l.type)).toEqual(['Conv2D', 'Conv2D', 'Dropout', 'Conv2D', 'Conv2D', 'Dropout', 'Flatten', 'Dense']);
    expect(m.layers[1].outputShape).toBe('[?, 8, 8, 4]');
    expect(m.layers[4].outputShape).toBe('[?, 4, 4, 8]');
    modelPort.dispose!(m);
    const strided = await build({ stride: 2, pooling: 'average', head: 'global-max', filterGrowth: 'same' });
    expect(strided.layers.map((l) => [l.type, l.outputShape]).filter(([t]) => t === 'AveragePooling2D' || t === 'GlobalMaxPooling2D')).toEqual([
      ['AveragePooling2D', '[?, 3, 3, 4]'], // 12 → stride 2 → 6 → pool → 3
      ['AveragePooling2D', '[?, 1, 1, 4]'], // 3 → stride 2 → 2 → pool → 1
      ['GlobalMaxPooling2D', '[?, 4]'],
    ]);
    modelPort.dispose!(strided);
  });

  it('fails clearly when the stack would shrink the image below one pixel', async () => {
    expect(() => plannedSizes([12, 12, 3], { blocks: 3, convsPerBlock: 2, kernelSize: 3, stride: 2, padding: 'valid', pooling: 'none' })).toThrow(
      /block 2 would shrink the 12x12 image below one pixel/,
    );
    const err = await build({ blocks: 3, convsPerBlock: 2, stride: 2, padding: 'valid', pooling: 'none' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeError);
    expect((err as NodeError).where.param).toBe('blocks');
  });

  it('parses dense sizes and reports bad ones', () => {
    expect(parseDenseSizes('128, 64')).toEqual([128, 64]);
    expect(parseDenseSizes('')).toEqual([]);
    expect(() => parseDenseSizes('12, x')).toThrow(/"x" is not a layer size/);
    expect(cnnBuilder.checkParams!({ ...defaults, dense: '0' } as never)[0].param).toBe('dense');
  });

  it('draws initial weights from the initialiser and the seed', async () => {
    const stats: Record<string, number> = {};
    for (const init of INITIALIZERS) {
      const m = await build({ initializer: init, batchNorm: false });
      const w = kernelOf(m, 'conv2');
      stats[init] = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
      modelPort.dispose!(m);
    }
    // conv2: fanIn = 3*3*4 = 36, fanOut = 3*3*8 = 72. He var = 2/fanIn, LeCun var = 1/fanIn, Glorot var = 2/(fanIn+fanOut).
    expect(stats['he-uniform']).toBeCloseTo(Math.sqrt(2 / 36), 1);
    expect(stats['lecun-uniform']).toBeCloseTo(Math.sqrt(1 / 36), 1);
    expect(stats['glorot-uniform']).toBeCloseTo(Math.sqrt(2 / 108), 1);
    expect(stats['he-normal']).toBeGreaterThan(stats['lecun-normal']);
    const a = await build({ seed: 3 });
    const b = await build({ seed: 3 });
    const c = await build({ seed: 4 });
    expect(Array.from(kernelOf(a, 'conv1'))).toEqual(Array.from(kernelOf(b, 'conv1')));
    expect(Array.from(kernelOf(a, 'conv1'))).not.toEqual(Array.from(kernelOf(c, 'conv1')));
    for (const m of [a, b, c]) modelPort.dispose!(m);
  });
});
