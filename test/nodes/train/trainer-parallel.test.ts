// Data-parallel training inside the training loop: same results as one thread, checkpoints,
// two-phase fine-tuning, cancel, and no leaked tensors or threads.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, NodeError } from '../../../main/engine/errors.ts';
import { DataParallelTrainer } from '../../../main/engine/parallel/index.ts';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import type { ModelValue } from '../../../nodes/_lib/ports.ts';
import { DEFAULT_TRAIN_CONFIG, chooseWorkers, trainClassifierModel } from '../../../nodes/_lib/trainer.ts';
import type { TrainConfig } from '../../../nodes/_lib/trainer.ts';
import { simpleCnn } from '../../../nodes/model/simple-cnn.node.ts';
import { makeContext, setupBackend, tempDir } from '../_ctx.ts';
import { tinyDataset } from '../model/_tiny.ts';

let dataset: Dataset;
beforeAll(async () => {
  await setupBackend();
  dataset = await tinyDataset(48);
});

afterEach(() => {
  // Every replica thread is gone once training returns or throws.
  expect(DataParallelTrainer.liveWorkers).toBe(0);
});

/** No dropout: the one thing that differs between one thread and workers is the dropout mask. */
async function cnn(blocks = 1): Promise<ModelValue> {
  const params = { blocks, filters: 4, kernelSize: 3, denseUnits: 8, dropout: 0, seed: 5 };
  return ((await simpleCnn.run({ dataset }, params, makeContext({ seed: 5 }))) as { model: ModelValue }).model;
}

const config = (c: Partial<TrainConfig> = {}): TrainConfig => ({ ...DEFAULT_TRAIN_CONFIG, epochs: 2, batchSize: 12, learningRate: 0.01, ...c });
const flat = (m: tf.LayersModel): number[] => m.getWeights().flatMap((w) => Array.from(w.dataSync()));
function maxDiff(a: number[], b: number[]): number {
  expect(b.length).toBe(a.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

describe('chooseWorkers', () => {
  const big = (): tf.LayersModel =>
    tf.sequential({ layers: [tf.layers.dense({ inputShape: [200], units: 200 }), tf.layers.dense({ units: 2, activation: 'softmax' })] });
  it('uses workers only on wasm / cpu, with several cores, a big enough model and batch', () => {
    const m = big();
    expect(chooseWorkers('auto', m, 32, 'wasm', 2)).toMatchObject({ workers: 2 });
    expect(chooseWorkers('auto', m, 32, 'cpu', 8)).toMatchObject({ workers: 4 });
    expect(chooseWorkers('auto', m, 32, 'tensorflow', 8).workers).toBe(1);
    expect(chooseWorkers('auto', m, 32, 'wasm', 1).workers).toBe(1);
    expect(chooseWorkers('auto', m, 8, 'wasm', 2)).toMatchObject({ workers: 1, reason: expect.stringMatching(/batch size 8/) });
    expect(chooseWorkers('2', m, 4, 'wasm', 1).workers).toBe(2);
    expect(chooseWorkers('4', m, 32, 'tensorflow', 8).workers).toBe(1);
    expect(chooseWorkers('auto', m, 32, 'wasm', 2, 20)).toMatchObject({ workers: 1, reason: expect.stringMatching(/too few/) });
    const small = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
    expect(chooseWorkers('auto', small, 32, 'wasm', 2)).toMatchObject({ workers: 1, reason: expect.stringMatching(/too small/) });
    m.dispose();
    small.dispose();
  });
});

describe('trainClassifierModel with worker threads', () => {
  it.each([
    ['adam', { optimizer: 'adam', labelSmoothing: 0.1, classWeights: 'custom', customClassWeights: '1,2', l2: 0.01, schedule: 'step', decayEpochs: 1 }],
    ['sgd with momentum', { optimizer: 'sgd', momentum: 0.9, schedule: 'cosine', l2: 0.001 }],
  ] as [string, Partial<TrainConfig>][])('matches one-thread training (%s, loss options, schedule)', async (_, extra) => {
    const model = await cnn();
    const before = tf.memory().numTensors;
    const oneLosses: number[] = [];
    const one = await trainClassifierModel(model.model, dataset, config({ ...extra, workers: '1' }), makeContext(), {
      onBatch: (_e, _b, l) => oneLosses.push(l),
    });
    const ctx = makeContext();
    const dpLosses: number[] = [];
    const two = await trainClassifierModel(model.model, dataset, config({ ...extra, workers: '2' }), ctx, { onBatch: (_e, _b, l) => dpLosses.push(l) });
    expect(ctx.logs.some((l) => /data-parallel on 2 worker threads/.test(l.message))).toBe(true);
    expect(dpLosses).toHaveLength(oneLosses.length);
    dpLosses.forEach((l, i) => expect(l).toBeCloseTo(oneLosses[i], 4));
    expect(two.history.epochs.map((e) => e.learningRate)).toEqual(one.history.epochs.map((e) => e.learningRate));
    two.history.epochs.forEach((e, i) => {
      expect(e.accuracy).toBeCloseTo(one.history.epochs[i].accuracy, 6);
      expect(e.valLoss!).toBeCloseTo(one.history.epochs[i].valLoss!, 4);
    });
    const a = flat(one.model);
    const b = flat(two.model);
    expect(maxDiff(a, flat(model.model))).toBeGreaterThan(0.01); // it trained
    expect(maxDiff(a, b)).toBeLessThan(2e-4);
    expect(ctx.progressCalls.at(-1)?.fraction).toBe(1);
    expect(ctx.progressCalls.some((p) => /ETA/.test(p.note ?? ''))).toBe(true);
    one.model.dispose();
    two.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.model.dispose();
  });

  it('resumes two-phase fine-tuning from a checkpoint after a cancel, as one thread trains straight', async () => {
    const frozen = await cnn(2);
    for (const l of frozen.model.layers.slice(0, 2)) l.trainable = false; // conv1, pool1
    const c = config({ epochs: 1, fineTuneEpochs: 2, fineTuneLayers: 1, optimizer: 'rmsprop', momentum: 0.5 });
    const straight = await trainClassifierModel(frozen.model, dataset, { ...c, workers: '1' }, makeContext());
    const before = tf.memory().numTensors;
    const dir = join(tempDir(), 'ckpt');
    const first = makeContext();
    const err = await trainClassifierModel(frozen.model, dataset, { ...c, workers: '2' }, first, {
      checkpointDir: dir,
      onBatch: (epoch, batch) => {
        if (epoch === 3 && batch === 2) first.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(DataParallelTrainer.liveWorkers).toBe(0);
    expect(readdirSync(dir)).toContain('epoch-00002');
    expect(tf.memory().numTensors).toBe(before);
    const second = makeContext();
    const resumed = await trainClassifierModel(frozen.model, dataset, { ...c, workers: '2' }, second, { checkpointDir: dir });
    expect(second.logs.some((l) => /resuming from epoch 2 of 3/.test(l.message))).toBe(true);
    expect(second.logs.some((l) => /data-parallel on 2/.test(l.message))).toBe(true);
    expect(resumed.history.epochs.map((e) => [e.phase, e.learningRate])).toEqual(straight.history.epochs.map((e) => [e.phase, e.learningRate]));
    const conv1 = (m: tf.LayersModel): number[] => Array.from(m.getLayer('conv1').getWeights()[0].dataSync());
    expect(conv1(resumed.model)).toEqual(conv1(frozen.model));
    expect(maxDiff(flat(straight.model), flat(resumed.model))).toBeLessThan(2e-4);
    for (const m of [straight.model, resumed.model, frozen.model]) m.dispose();
  });

  it('stops on a NaN loss computed by the workers, naming epoch and batch', async () => {
    const broken = await cnn();
    const layer = broken.model.getLayer('classifier');
    const [kernel, bias] = layer.getWeights();
    const nan = tf.fill(bias.shape, NaN);
    layer.setWeights([kernel, nan]);
    nan.dispose();
    const before = tf.memory().numTensors;
    const err = await trainClassifierModel(broken.model, dataset, config({ workers: '2' }), makeContext()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeError);
    expect((err as NodeError).message).toMatch(/loss became NaN at epoch 1, batch 1; try a lower learning rate/);
    expect(tf.memory().numTensors).toBe(before);
    broken.model.dispose();
  });

  it('cancels while a step is running on the workers', async () => {
    const model = await cnn();
    const ctx = makeContext();
    const before = tf.memory().numTensors;
    const err = await trainClassifierModel(model.model, dataset, config({ workers: '2' }), ctx, {
      onBatch: (epoch, batch) => {
        // Abort once the next step has been handed to the workers.
        if (epoch === 1 && batch === 1) setImmediate(() => ctx.abort());
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(tf.memory().numTensors).toBe(before);
    model.model.dispose();
  });
});
