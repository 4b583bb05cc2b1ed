import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import { modelPort } from '../../../nodes/_lib/ports.ts';
import type { ModelValue } from '../../../nodes/_lib/ports.ts';
import { simpleCnn } from '../../../nodes/model/simple-cnn.node.ts';
import { setupBackend, tempDir } from '../_ctx.ts';
import { tinyCnnParams, tinyModel, tinySplitDataset } from '../fixtures.ts';

let dataset: Dataset;
beforeAll(async () => {
  await setupBackend();
  dataset = await tinySplitDataset(16);
});

const weightsOf = (m: ModelValue): number[] => m.model.getWeights().flatMap((w) => Array.from(w.dataSync()));

describe('simple-cnn', () => {
  it('takes the dataset image shape and outputs one probability per class', async () => {
    const before = tf.memory().numTensors;
    const m = await tinyModel(dataset, { blocks: 2 });
    expect(m.inputShape).toEqual([16, 16, 3]);
    expect(m.classes).toEqual(['stop', 'yield']);
    const y = tf.tidy(() => m.model.predict(tf.zeros([3, 16, 16, 3])) as tf.Tensor);
    expect(y.shape).toEqual([3, 2]);
    const sums = tf.tidy(() => y.sum(-1).dataSync());
    expect(sums[0]).toBeCloseTo(1, 5);
    y.dispose();
    // conv1 (4), pool, conv2 (8), pool, flatten, dense, dropout, classifier
    expect(m.layers.map((l) => l.type)).toEqual(['Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'Dropout', 'Dense']);
    expect(m.layers[2].outputShape).toBe('[?, 8, 8, 8]');
    expect(m.layers[0].params).toBe(3 * 3 * 3 * 4 + 4);
    modelPort.dispose!(m);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('initialises the same weights from the same seed, different ones from another', async () => {
    const a = await tinyModel(dataset);
    const b = await tinyModel(dataset);
    const c = await tinyModel(dataset, { seed: 6 });
    expect(weightsOf(a)).toEqual(weightsOf(b));
    expect(weightsOf(a)).not.toEqual(weightsOf(c));
    for (const m of [a, b, c]) m.model.dispose();
  });

  it('leaves out the dense and dropout layers when asked', async () => {
    const m = await tinyModel(dataset, { denseUnits: 0, dropout: 0 });
    expect(m.layers.map((l) => l.type)).toEqual(['Conv2D', 'MaxPooling2D', 'Flatten', 'Dense']);
    m.model.dispose();
  });

  it('previews a layer table with the parameter count', async () => {
    const m = await tinyModel(dataset);
    const p = simpleCnn.preview!({ model: m }, tinyCnnParams);
    expect(p).toMatchObject({ kind: 'table', columns: ['layer', 'type', 'output shape', 'params'] });
    const total = m.model.countParams();
    expect((p as { title: string }).title).toContain(total.toLocaleString('en-US'));
    m.model.dispose();
  });

  it('round-trips through the disk cache with the same weights', async () => {
    const m = await tinyModel(dataset);
    const dir = tempDir();
    await modelPort.save!(m, dir);
    const back = (await modelPort.load!(dir)) as ModelValue;
    expect(back.inputShape).toEqual(m.inputShape);
    expect(back.architecture).toBe(m.architecture);
    expect(weightsOf(back)).toEqual(weightsOf(m));
    m.model.dispose();
    back.model.dispose();
  });

  it('refuses a dataset with one class', async () => {
    const one = { ...dataset, classes: ['only'] } as Dataset;
    await expect(tinyModel(one)).rejects.toThrow(/at least 2 classes/);
  });
});
