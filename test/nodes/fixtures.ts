/** Tiny pipeline pieces shared by the model, train and evaluate tests. */
import type { Dataset } from '../../nodes/_lib/dataset.ts';
import type { ModelValue, TrainedModel } from '../../nodes/_lib/ports.ts';
import { sampleSigns } from '../../nodes/data/sample-signs.node.ts';
import { split } from '../../nodes/data/split.node.ts';
import { simpleCnn } from '../../nodes/model/simple-cnn.node.ts';
import { trainClassifier } from '../../nodes/train/train-classifier.node.ts';
import { makeContext } from './_ctx.ts';
import type { TestContext } from './_ctx.ts';

/** 2 easy classes (stop, yield) of 16x16 images, split 75/25. */
export async function tinySplitDataset(count = 160): Promise<Dataset> {
  const { dataset } = (await sampleSigns.run({}, { count, size: 16, classes: 2, difficulty: 0, seed: 3 }, makeContext())) as { dataset: Dataset };
  return ((await split.run({ dataset }, { validation: 0.25, test: 0, stratify: true, seed: 1 }, makeContext())) as { dataset: Dataset }).dataset;
}

export const tinyCnnParams = { blocks: 1, filters: 4, kernelSize: 3, denseUnits: 16, dropout: 0.1, seed: 5 };

export async function tinyModel(dataset: Dataset, params: Partial<typeof tinyCnnParams> = {}): Promise<ModelValue> {
  const ctx = makeContext({ seed: params.seed ?? tinyCnnParams.seed });
  return ((await simpleCnn.run({ dataset }, { ...tinyCnnParams, ...params }, ctx)) as { model: ModelValue }).model;
}

export const tinyTrainParams = { epochs: 3, batchSize: 16, learningRate: 0.003, seed: 2 };

export async function tinyTrain(
  model: ModelValue,
  dataset: Dataset,
  params: Partial<typeof tinyTrainParams> = {},
  ctx: TestContext = makeContext({ seed: params.seed ?? tinyTrainParams.seed }),
): Promise<TrainedModel> {
  return ((await trainClassifier.run({ model, dataset }, { ...tinyTrainParams, ...params }, ctx)) as { trainedModel: TrainedModel }).trainedModel;
}
