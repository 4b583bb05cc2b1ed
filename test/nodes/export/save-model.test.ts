import '../_leak-guard.ts';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { NodeError } from '../../../main/engine/errors.ts';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import { loadLayersModelFrom } from '../../../nodes/_lib/model-zoo.ts';
import type { TrainedModel } from '../../../nodes/_lib/ports.ts';
import { DEFAULT_TRAIN_CONFIG, trainClassifierModel } from '../../../nodes/_lib/trainer.ts';
import { saveModel } from '../../../nodes/export/save-model.node.ts';
import { makeContext, setupBackend, tempDir } from '../_ctx.ts';
import { tinyCnn, tinyDataset } from '../model/_tiny.ts';

let dataset: Dataset;
let trained: TrainedModel;
beforeAll(async () => {
  await setupBackend();
  dataset = await tinyDataset(24);
  const m = await tinyCnn(dataset);
  const r = await trainClassifierModel(m.model, dataset, { ...DEFAULT_TRAIN_CONFIG, epochs: 1, batchSize: 8 }, makeContext());
  m.model.dispose();
  trained = { model: r.model, inputShape: dataset.imageShape, classes: [...dataset.classes], normalization: r.normalization, architecture: 'tiny', history: r.history };
});

describe('save-model', () => {
  it('writes a TF.js LayersModel folder with dlflow metadata that loads back and predicts the same', async () => {
    const base = tempDir();
    const ctx = Object.assign(makeContext(), { baseDir: base });
    await saveModel.run({ trainedModel: trained }, { path: 'out/m', overwrite: true }, ctx);
    const dir = join(base, 'out', 'm');
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    expect(readdirSync(join(base, 'out'))).toEqual(['m']); // no temp folders left
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { userDefinedMetadata: { dlflow: { classes: string[] } } };
    expect(json.userDefinedMetadata.dlflow.classes).toEqual(['stop', 'yield']);
    const { model, metadata } = await loadLayersModelFrom(dir);
    expect((metadata?.dlflow as { normalization: unknown }).normalization).toEqual(trained.normalization);
    const x = tf.randomUniform([2, 12, 12, 3], 0, 1, 'float32', 1);
    const a = tf.tidy(() => Array.from((trained.model.predict(x) as tf.Tensor).dataSync()));
    const b = tf.tidy(() => Array.from((model.predict(x) as tf.Tensor).dataSync()));
    expect(b).toEqual(a);
    x.dispose();
    model.dispose();
    // Overwrite replaces; overwrite off refuses, naming the param.
    await saveModel.run({ trainedModel: trained }, { path: dir, overwrite: true }, ctx);
    const err = await saveModel.run({ trainedModel: trained }, { path: dir, overwrite: false }, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeError);
    expect((err as NodeError).where.param).toBe('path');
    expect(existsSync(join(dir, 'model.json'))).toBe(true);
  });
});
