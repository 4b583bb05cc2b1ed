import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, NodeError } from '../../../main/engine/errors.ts';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import type { ModelValue } from '../../../nodes/_lib/ports.ts';
import {
  CurveRecorder,
  DEFAULT_TRAIN_CONFIG,
  classWeightValues,
  estimateTrainingMemory,
  scheduledLearningRate,
  trainClassifierModel,
  unfreezeLast,
} from '../../../nodes/_lib/trainer.ts';
import type { TrainConfig } from '../../../nodes/_lib/trainer.ts';
import { makeContext, setupBackend, tempDir } from '../_ctx.ts';
import { tinyCnn as tinyModel, tinyDataset } from '../model/_tiny.ts';

let dataset: Dataset;
let model: ModelValue;
beforeAll(async () => {
  await setupBackend();
  dataset = await tinyDataset(48);
  model = await tinyModel(dataset);
});

const config = (c: Partial<TrainConfig> = {}): TrainConfig => ({ ...DEFAULT_TRAIN_CONFIG, epochs: 2, batchSize: 12, learningRate: 0.01, ...c });
const flat = (m: tf.LayersModel): number[] => m.getWeights().flatMap((w) => Array.from(w.dataSync()));

describe('learning-rate schedules', () => {
  const c = { decayRate: 0.5, decayEpochs: 2, minLearningRate: 1e-6 };
  it('steps, decays exponentially and follows a cosine', () => {
    expect([0, 1, 2, 3, 4].map((e) => scheduledLearningRate({ ...c, schedule: 'step' }, 1, e, 5))).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expect([0, 1, 2].map((e) => scheduledLearningRate({ ...c, schedule: 'exponential' }, 1, e, 3))).toEqual([1, 0.5, 0.25]);
    const cos = [0, 2, 4].map((e) => scheduledLearningRate({ ...c, schedule: 'cosine' }, 1, e, 4));
    expect(cos[0]).toBeCloseTo(1);
    expect(cos[1]).toBeCloseTo(0.5, 3);
    expect(cos[2]).toBeCloseTo(1e-6);
    expect(scheduledLearningRate({ ...c, schedule: 'constant' }, 0.3, 7, 9)).toBe(0.3);
  });
});

describe('class weights', () => {
  it('balances inversely to class frequency and parses custom lists', () => {
    expect(classWeightValues({ classWeights: 'balanced', customClassWeights: '' }, [30, 10])).toEqual([40 / 60, 40 / 20]);
    expect(classWeightValues({ classWeights: 'custom', customClassWeights: '1, 2.5' }, [3, 3])).toEqual([1, 2.5]);
    expect(classWeightValues({ classWeights: 'none', customClassWeights: '' }, [3, 3])).toBeUndefined();
    expect(() => classWeightValues({ classWeights: 'custom', customClassWeights: '1' }, [3, 3])).toThrow(/2 non-negative numbers/);
  });
});

describe('curves', () => {
  it('thins per-batch points and keeps epoch series', () => {
    const r = new CurveRecorder(2, 10);
    for (let i = 0; i < 100; i++) r.batch(i / 50, 1, 0.5);
    expect(r.batchX.length).toBeLessThanOrEqual(10);
    const p = r.preview([{ epoch: 1, loss: 1, accuracy: 0.5, seconds: 1, valLoss: 1.1, valAccuracy: 0.4 }]);
    expect(p.series.map((s) => s.name)).toContain('validation accuracy');
    expect(p.xMax).toBe(2);
  });
});

describe('trainClassifierModel', () => {
  it('trains a copy, leaves the source untouched, leaks nothing, and is reproducible', async () => {
    const sourceBefore = flat(model.model);
    const before = tf.memory().numTensors;
    const ctx = makeContext();
    const a = await trainClassifierModel(model.model, dataset, config(), ctx);
    expect(a.history.epochs).toHaveLength(2);
    expect(a.history.epochs[1].valAccuracy).toBeDefined();
    expect(flat(model.model)).toEqual(sourceBefore);
    const b = await trainClassifierModel(model.model, dataset, config(), makeContext());
    expect(flat(b.model)).toEqual(flat(a.model));
    expect(ctx.previews.at(-1)?.kind).toBe('curves');
    expect(ctx.progressCalls.at(-1)?.fraction).toBe(1);
    expect(ctx.progressCalls.some((p) => /ETA/.test(p.note ?? ''))).toBe(true);
    a.model.dispose();
    b.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(['sgd', 'rmsprop'] as const)('trains with %s and a schedule', async (optimizer) => {
    const before = tf.memory().numTensors;
    const r = await trainClassifierModel(model.model, dataset, config({ optimizer, schedule: 'step', decayEpochs: 1, decayRate: 0.1 }), makeContext());
    expect(r.history.epochs.map((e) => e.learningRate)).toEqual([0.01, 0.01 * 0.1]);
    expect(r.history.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('applies label smoothing, class weights and L2 to the loss', async () => {
    const losses: Record<string, number> = {};
    for (const [name, c] of Object.entries({
      plain: {},
      smooth: { labelSmoothing: 0.2 },
      weighted: { classWeights: 'custom', customClassWeights: '3,3' },
      l2: { l2: 0.5 },
    } as Record<string, Partial<TrainConfig>>)) {
      let first = NaN;
      const r = await trainClassifierModel(model.model, dataset, config({ epochs: 1, ...c }), makeContext(), {
        onBatch: (e, b, l) => {
          if (e === 1 && b === 1) first = l;
        },
      });
      r.model.dispose();
      losses[name] = first;
    }
    // The first batch sees identical weights, so only the loss definition differs.
    expect(losses.weighted).toBeCloseTo(losses.plain * 3, 4);
    expect(losses.l2).toBeGreaterThan(losses.plain);
    expect(losses.smooth).not.toBeCloseTo(losses.plain, 4);
  });

  it('stops early and restores the best weights', async () => {
    const ctx = makeContext();
    // A learning rate of ~0 makes validation loss flat: no improvement after epoch 1.
    const r = await trainClassifierModel(model.model, dataset, config({ epochs: 6, learningRate: 1e-9, earlyStoppingPatience: 1, monitor: 'val_loss' }), ctx);
    expect(r.history.epochs.length).toBe(2);
    expect(r.history.stoppedEarly).toMatch(/val_loss did not improve/);
    expect(r.history.restoredEpoch).toBe(1);
    r.model.dispose();
  });

  it('reduces the learning rate on a plateau', async () => {
    const r = await trainClassifierModel(model.model, dataset, config({ epochs: 3, learningRate: 1e-9, schedule: 'plateau', plateauPatience: 1, decayRate: 0.5, minLearningRate: 1e-12 }), makeContext());
    // Epoch 1 sets the best; epoch 2 does not improve, so epoch 3 runs at half the rate.
    expect(r.history.epochs.map((e) => e.learningRate)).toEqual([1e-9, 1e-9, 5e-10]);
    r.model.dispose();
  });

  it('stops on NaN loss, naming epoch and batch and suggesting a lower learning rate', async () => {
    const broken = await tinyModel(dataset);
    const layer = broken.model.getLayer('classifier');
    const [kernel, bias] = layer.getWeights();
    const nan = tf.fill(bias.shape, NaN);
    layer.setWeights([kernel, nan]);
    nan.dispose();
    const before = tf.memory().numTensors;
    const err = await trainClassifierModel(broken.model, dataset, config(), makeContext()).catch((e: unknown) => e);
    broken.model.dispose();
    expect(err).toBeInstanceOf(NodeError);
    expect((err as NodeError).message).toMatch(/loss became NaN at epoch 1, batch 1; try a lower learning rate/);
    expect((err as NodeError).where.param).toBe('learningRate');
    expect(tf.memory().numTensors).toBe(before - broken.model.weights.length);
  });

  it('estimates memory and lowers the batch size when allowed, or fails clearly', async () => {
    const est = estimateTrainingMemory(model.model);
    expect(est.activationBytesPerImage).toBeGreaterThan(12 * 12 * 3 * 4);
    const limitMb = (est.totalBytes(4) + 1) / 2 ** 20;
    const ctx = makeContext();
    const r = await trainClassifierModel(model.model, dataset, config({ epochs: 1, batchSize: 32, memoryLimitMb: limitMb }), ctx);
    expect(r.history.batchSize).toBe(4);
    expect(ctx.logs.some((l) => /batch size lowered from 32 to 4/.test(l.message))).toBe(true);
    r.model.dispose();
    const err = await trainClassifierModel(model.model, dataset, config({ batchSize: 32, autoBatchSize: false, memoryLimitMb: limitMb }), makeContext()).catch((e: unknown) => e);
    expect((err as NodeError).where.param).toBe('batchSize');
    expect((err as Error).message).toMatch(/would need about .* but only/);
  });

  it('checkpoints each epoch and resumes after a cancel exactly where it left off', async () => {
    const c = config({ epochs: 3 });
    const straight = await trainClassifierModel(model.model, dataset, c, makeContext(), { checkpointDir: join(tempDir(), 'ckpt') });
    const dir = join(tempDir(), 'ckpt');
    const first = makeContext();
    let batches = 0;
    const err = await trainClassifierModel(model.model, dataset, c, first, {
      checkpointDir: dir,
      onBatch: (epoch) => {
        // Cancel in the middle of epoch 3.
        if (epoch === 3 && ++batches === 1) first.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(readdirSync(dir)).toContain('epoch-00002');
    const before = tf.memory().numTensors;
    const second = makeContext();
    const resumed = await trainClassifierModel(model.model, dataset, c, second, { checkpointDir: dir });
    expect(second.logs.some((l) => /resuming from epoch 2 of 3/.test(l.message))).toBe(true);
    expect(resumed.history.epochs).toHaveLength(3);
    expect(resumed.history.resumedFrom).toBe(2);
    const a = flat(straight.model);
    const b = flat(resumed.model);
    expect(b.length).toBe(a.length);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 5);
    expect(existsSync(dir)).toBe(false);
    resumed.model.dispose();
    expect(tf.memory().numTensors).toBe(before - 0);
    straight.model.dispose();
  });

  it('runs two-phase transfer: frozen base first, then the last N layers unfrozen at a lower rate', async () => {
    const frozen = await tinyModel(dataset, { blocks: 2 });
    const m = frozen.model;
    for (const l of m.layers.slice(0, 4)) l.trainable = false; // conv1, pool1, conv2, pool2
    const ctx = makeContext();
    const r = await trainClassifierModel(m, dataset, config({ epochs: 1, fineTuneEpochs: 1, fineTuneLayers: 1, fineTuneLearningRateFactor: 0.1 }), ctx);
    expect(r.history.epochs.map((e) => [e.phase, e.learningRate])).toEqual([
      [1, 0.01],
      [2, 0.001],
    ]);
    expect(ctx.logs.some((l) => /unfroze 1 layer \(conv2/.test(l.message))).toBe(true);
    const conv1 = (w: tf.LayersModel): number[] => Array.from(w.getLayer('conv1').getWeights()[0].dataSync());
    const conv2 = (w: tf.LayersModel): number[] => Array.from(w.getLayer('conv2').getWeights()[0].dataSync());
    expect(conv1(r.model)).toEqual(conv1(m));
    expect(conv2(r.model)).not.toEqual(conv2(m));
    expect(unfreezeLast(m, 0)).toEqual(['conv1', 'conv2']);
    r.model.dispose();
    m.dispose();
  });
  it.each([
    ['at the phase boundary', 2],
    ['inside phase 2', 3],
  ])('resumes two-phase training exactly when cancelled %s', async (_, cancelEpoch) => {
    const frozen = await tinyModel(dataset, { blocks: 2 });
    for (const l of frozen.model.layers.slice(0, 4)) l.trainable = false;
    const c = config({ epochs: 1, fineTuneEpochs: 3, fineTuneLayers: 1 });
    const straight = await trainClassifierModel(frozen.model, dataset, c, makeContext());
    const dir = join(tempDir(), 'ckpt');
    const first = makeContext();
    const err = await trainClassifierModel(frozen.model, dataset, c, first, {
      checkpointDir: dir,
      onBatch: (epoch, batch) => {
        if (epoch === cancelEpoch && batch === 1) first.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    const second = makeContext();
    const resumed = await trainClassifierModel(frozen.model, dataset, c, second, { checkpointDir: dir });
    expect(second.logs.filter((l) => /unfroze/.test(l.message))).toHaveLength(1);
    const a = flat(straight.model);
    const b = flat(resumed.model);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 5);
    for (const m of [straight.model, resumed.model, frozen.model]) m.dispose();
  });
});
