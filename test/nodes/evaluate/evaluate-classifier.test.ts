import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../../main/engine/errors.ts';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import { metricsPort } from '../../../nodes/_lib/ports.ts';
import type { Metrics, TrainedModel } from '../../../nodes/_lib/ports.ts';
import { classificationMetrics, evaluateClassifier } from '../../../nodes/evaluate/evaluate-classifier.node.ts';
import { makeContext, setupBackend, tempDir } from '../_ctx.ts';
import type { TestContext } from '../_ctx.ts';
import { tinyModel, tinySplitDataset, tinyTrain } from '../fixtures.ts';

let dataset: Dataset;
let trained: TrainedModel;
beforeAll(async () => {
  await setupBackend();
  dataset = await tinySplitDataset();
  const model = await tinyModel(dataset);
  trained = await tinyTrain(model, dataset, { epochs: 5 });
  model.model.dispose();
});

const evaluate = async (params: Partial<{ subset: 'validation' | 'test' | 'train'; batchSize: number }> = {}, ctx: TestContext = makeContext()) =>
  ((await evaluateClassifier.run({ trainedModel: trained, dataset }, { subset: 'validation', batchSize: 7, ...params }, ctx)) as { metrics: Metrics })
    .metrics;

describe('classificationMetrics', () => {
  it('builds the confusion matrix and per-class precision/recall/F1', () => {
    // actual:    a a a b b c
    // predicted: a a b b a c
    const m = classificationMetrics(['a', 'b', 'c'], [0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 0, 2]);
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [1, 1, 0],
      [0, 0, 1],
    ]);
    expect(m.accuracy).toBeCloseTo(4 / 6);
    expect(m.perClass[0]).toMatchObject({ name: 'a', precision: 2 / 3, recall: 2 / 3, support: 3 });
    expect(m.perClass[1]).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(m.perClass[2]).toMatchObject({ precision: 1, recall: 1, f1: 1 });
  });

  it('gives 0, not NaN, for a class never predicted', () => {
    const m = classificationMetrics(['a', 'b'], [0, 1], [0, 0]);
    expect(m.perClass[1]).toMatchObject({ precision: 0, recall: 0, f1: 0 });
  });
});

describe('evaluate-classifier', () => {
  it('reports accuracy, loss and a confusion matrix over the validation subset', async () => {
    const before = tf.memory().numTensors;
    const ctx = makeContext();
    const m = await evaluate({}, ctx);
    expect(tf.memory().numTensors).toBe(before);
    expect(m.subset).toBe('validation');
    expect(m.count).toBe(dataset.subsets.validation!.length);
    expect(m.confusion.flat().reduce((a, b) => a + b, 0)).toBe(m.count);
    const diagonal = m.confusion.reduce((n, row, i) => n + row[i], 0);
    expect(m.accuracy).toBeCloseTo(diagonal / m.count);
    // Agrees with the validation accuracy of the last training epoch (same model, same images).
    expect(m.accuracy).toBeCloseTo(trained.history.epochs.at(-1)!.valAccuracy!, 6);
    expect(m.loss).toBeCloseTo(trained.history.epochs.at(-1)!.valLoss!, 4);
    expect(m.accuracy).toBeGreaterThan(0.7);
    expect(ctx.logs.some((l) => /^validation accuracy \d+\.\d%/.test(l.message))).toBe(true);
    expect(ctx.progressCalls.at(-1)!.fraction).toBe(1);
  });

  it('previews a summary, the confusion matrix and a per-class table', async () => {
    const m = await evaluate();
    const previews = evaluateClassifier.preview!({ metrics: m }, { subset: 'validation', batchSize: 7 });
    expect(Array.isArray(previews) && previews.map((p) => p.kind)).toEqual(['text', 'confusion-matrix', 'table']);
    const [text, matrix] = previews as unknown as [{ text: string }, { labels: string[] }];
    expect(text.text).toMatch(/^validation accuracy \d+\.\d% \(40 images/);
    expect(matrix.labels).toEqual(['stop', 'yield']);
    expect(evaluateClassifier.summary!({ metrics: m }, { subset: 'validation', batchSize: 7 })).toBe(text.text);
  });

  it('evaluates the train subset when asked, and names a missing subset', async () => {
    const m = await evaluate({ subset: 'train' });
    expect(m.count).toBe(dataset.subsets.train!.length);
    await expect(evaluate({ subset: 'test' })).rejects.toThrow(/no test subset \(it has train, validation\)/);
  });

  it('stops when cancelled', async () => {
    const ctx = makeContext();
    ctx.abort();
    const before = tf.memory().numTensors;
    await expect(evaluate({}, ctx)).rejects.toBeInstanceOf(CancelledError);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('round-trips metrics through the disk cache', async () => {
    const m = await evaluate();
    const dir = tempDir();
    await metricsPort.save!(m, dir);
    expect(await metricsPort.load!(dir)).toEqual(m);
  });
});
