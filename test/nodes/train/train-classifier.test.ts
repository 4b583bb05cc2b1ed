import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, NodeError } from '../../../main/engine/errors.ts';
import type { CurvesPreview } from '../../../main/protocol/index.ts';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import { deriveDataset } from '../../../nodes/_lib/dataset.ts';
import { trainedModelPort } from '../../../nodes/_lib/ports.ts';
import type { ModelValue, TrainedModel } from '../../../nodes/_lib/ports.ts';
import { trainClassifier } from '../../../nodes/train/train-classifier.node.ts';
import { makeContext, setupBackend, tempDir } from '../_ctx.ts';
import { tinyModel, tinySplitDataset, tinyTrain, tinyTrainParams } from '../fixtures.ts';

let dataset: Dataset;
beforeAll(async () => {
  await setupBackend();
  dataset = await tinySplitDataset();
});

const weightsOf = (m: tf.LayersModel): number[] => m.getWeights().flatMap((w) => Array.from(w.dataSync()));

describe('train-classifier', () => {
  it('reduces the loss and streams curves and progress, without touching the input model', async () => {
    const model = await tinyModel(dataset);
    const initial = weightsOf(model.model);
    const ctx = makeContext({ seed: 2 });
    const trained = await tinyTrain(model, dataset, { epochs: 5 }, ctx);
    const h = trained.history.epochs;
    expect(h).toHaveLength(5);
    expect(h[4].loss).toBeLessThan(0.8 * h[0].loss);
    expect(h[4].accuracy).toBeGreaterThan(0.75);
    expect(h[4].valAccuracy).toBeGreaterThan(0.7);
    expect(weightsOf(model.model)).toEqual(initial);
    expect(trained.model).not.toBe(model.model);
    expect(trained.classes).toEqual(dataset.classes);
    expect(trained.normalization).toEqual({ mean: [0, 0, 0], std: [1, 1, 1] });
    // Curves stream per batch (smoothed) and per epoch; the last has every epoch and validation series.
    expect(ctx.previews.length).toBeGreaterThanOrEqual(5);
    const last = ctx.previews.at(-1) as CurvesPreview;
    expect(last.kind).toBe('curves');
    expect(last.series.map((s) => s.name)).toEqual([
      'train loss (per batch, smoothed)',
      'train accuracy (per batch, smoothed)',
      'train loss',
      'train accuracy',
      'validation loss',
      'validation accuracy',
    ]);
    expect(last.series[2].y).toHaveLength(5);
    expect(last.xMax).toBe(5);
    // Progress per batch (120 training images / 16 = 8 batches per epoch) with epoch, batch and ETA, then done.
    expect(ctx.progressCalls).toHaveLength(41);
    expect(ctx.progressCalls[9].note).toMatch(/^epoch 2\/5 · batch 2\/8 · loss \d\.\d+ · ETA \d+s$/);
    expect(ctx.progressCalls.at(-1)!.fraction).toBe(1);
    expect(trainClassifier.summary!({ trainedModel: trained }, tinyTrainParams)).toMatch(/^val acc \d+\.\d% after 5 epochs, \d+ img\/s$/);
    expect(trainClassifier.preview!({ trainedModel: trained }, { ...tinyTrainParams, epochs: 5 })).toMatchObject({ kind: 'curves' });
    model.model.dispose();
    trained.model.dispose();
  });

  it('leaks no tensors once its output is disposed', async () => {
    const model = await tinyModel(dataset);
    const before = tf.memory().numTensors;
    const trained = await tinyTrain(model, dataset, { epochs: 1 });
    trainedModelPort.dispose!(trained);
    expect(tf.memory().numTensors).toBe(before);
    model.model.dispose();
  });

  it('gives the same history from the same seed on the same backend', async () => {
    const model = await tinyModel(dataset);
    const a = await tinyTrain(model, dataset, { epochs: 2 });
    const b = await tinyTrain(model, dataset, { epochs: 2 });
    expect(b.history.epochs.map((e) => e.loss)).toEqual(a.history.epochs.map((e) => e.loss));
    expect(weightsOf(b.model)).toEqual(weightsOf(a.model));
    for (const m of [model.model, a.model, b.model]) m.dispose();
  });

  it('stops promptly on cancel and leaks nothing', async () => {
    const model = await tinyModel(dataset);
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    let calls = 0;
    const ctx = makeContext({
      signal: controller.signal,
      onProgress: () => {
        if (++calls === 2) controller.abort();
      },
    });
    await expect(tinyTrain(model, dataset, { epochs: 50 }, ctx)).rejects.toBeInstanceOf(CancelledError);
    expect(calls).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    model.model.dispose();
  });

  it('fails clearly on a dataset without a train subset or with another image shape', async () => {
    const model = await tinyModel(dataset);
    const unsplit = deriveDataset(dataset, { subsets: {} });
    await expect(tinyTrain(model, unsplit)).rejects.toThrow(/no train subset; connect it through a Split node/);
    const wrong = { ...model, inputShape: [20, 20, 3] } as ModelValue;
    const error = await tinyTrain(wrong, dataset).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeError);
    expect((error as NodeError).message).toMatch(/takes 20x20x3 images but the dataset has 16x16x3/);
    model.model.dispose();
  });

  it('stops with the epoch and batch when the loss is not finite', async () => {
    const model = await tinyModel(dataset);
    // NaN in the last layer's bias (a ReLU earlier would turn NaN into 0 on some backends).
    const head = model.model.getLayer('classifier');
    const [kernel, bias] = head.getWeights();
    const nanBias = tf.fill(bias.shape, NaN);
    head.setWeights([kernel, nanBias]);
    nanBias.dispose();
    const before = tf.memory().numTensors;
    await expect(tinyTrain(model, dataset)).rejects.toThrow(/loss became NaN at epoch 1, batch 1; try a lower learning rate/);
    expect(tf.memory().numTensors).toBe(before);
    model.model.dispose();
  });

  it('round-trips through the disk cache and predicts the same', async () => {
    const model = await tinyModel(dataset);
    const trained = await tinyTrain(model, dataset, { epochs: 1 });
    const dir = tempDir();
    await trainedModelPort.save!(trained, dir);
    const back = (await trainedModelPort.load!(dir)) as TrainedModel;
    expect(back.history).toEqual(trained.history);
    expect(back.normalization).toEqual(trained.normalization);
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 4);
    const p1 = tf.tidy(() => Array.from((trained.model.predict(x) as tf.Tensor).dataSync()));
    const p2 = tf.tidy(() => Array.from((back.model.predict(x) as tf.Tensor).dataSync()));
    expect(p2).toEqual(p1);
    x.dispose();
    for (const m of [model.model, trained.model, back.model]) m.dispose();
  });
  it('resumes from the checkpoint in its cache folder after a cancel, and says so', async () => {
    const model = await tinyModel(dataset);
    const cacheDir = tempDir();
    const controller = new AbortController();
    const first = Object.assign(makeContext({ seed: 2, signal: controller.signal }), { cacheDir });
    const origLog = first.log.bind(first);
    first.log = (m, level) => {
      origLog(m, level);
      if (/^epoch 2\/3/.test(m)) controller.abort();
    };
    await expect(tinyTrain(model, dataset, { epochs: 3 }, first)).rejects.toBeInstanceOf(CancelledError);
    const second = Object.assign(makeContext({ seed: 2 }), { cacheDir });
    const resumed = await tinyTrain(model, dataset, { epochs: 3 }, second);
    expect(second.logs.some((l) => /resuming from epoch 2 of 3/.test(l.message))).toBe(true);
    expect(resumed.history.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    const straight = await tinyTrain(model, dataset, { epochs: 3 });
    const a = weightsOf(straight.model);
    const b = weightsOf(resumed.model);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 5);
    for (const m of [model.model, resumed.model, straight.model]) m.dispose();
  });

  it('takes every trainer option as a param and uses the normalisation a backbone asks for', async () => {
    const model = await tinyModel(dataset);
    const norm = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
    const withNorm = { ...model, inputNormalization: norm } as ModelValue;
    const trained = await tinyTrain(withNorm, dataset, {
      epochs: 2,
      learningRate: 0.01,
      optimizer: 'sgd',
      momentum: 0.9,
      schedule: 'exponential',
      decayRate: 0.5,
      labelSmoothing: 0.1,
      l2: 0.001,
      classWeights: 'balanced',
    } as never);
    expect(trained.normalization).toEqual(norm);
    expect(trained.history.optimizer).toBe('sgd');
    expect(trained.history.epochs.map((e) => (e as { learningRate?: number }).learningRate)).toEqual([0.01, 0.005]);
    expect(Object.keys(trainClassifier.params)).toEqual(expect.arrayContaining(['optimizer', 'schedule', 'earlyStoppingPatience', 'fineTuneEpochs', 'autoBatchSize']));
    for (const m of [model.model, trained.model]) m.dispose();
  });
});
