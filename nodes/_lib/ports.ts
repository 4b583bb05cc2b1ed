/**
 * Port types of the node library and the TypeScript type of the values on them. The engine
 * knows port types only through these definitions (dispose, size, disk save/load).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { definePortType } from '../../main/engine/node-api.ts';
import type { PortTypeDefinition } from '../../main/engine/node-api.ts';
import type { Dataset, ImageShape, Normalization, SubsetName } from './dataset.ts';
import { datasetSizeBytes, loadDataset, saveDataset } from './dataset.ts';
import type { LayerRow } from './model.ts';
import { loadModel, modelSizeBytes, saveModel } from './model.ts';

/** An untrained (or pretrained, not yet fitted to this dataset) classifier. */
export interface ModelValue {
  readonly model: tf.LayersModel;
  /** Image shape the model takes, [h, w, c]. */
  readonly inputShape: ImageShape;
  /** Class names of its outputs, in output order. */
  readonly classes: readonly string[];
  /** Short name of the architecture for reports, e.g. `simple-cnn 2x16`. */
  readonly architecture: string;
  readonly layers: readonly LayerRow[];
  /** The normalisation its inputs must have when the model dictates it (pretrained backbones); else the dataset's. */
  readonly inputNormalization?: Normalization;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
}

export interface TrainingHistory {
  optimizer: string;
  learningRate: number;
  batchSize: number;
  epochs: EpochRecord[];
  /** Training images seen per second, averaged over the run. */
  imagesPerSecond: number;
  seconds: number;
}

/** A model fitted to a dataset, with what is needed to apply it to new images. */
export interface TrainedModel {
  readonly model: tf.LayersModel;
  readonly inputShape: ImageShape;
  readonly classes: readonly string[];
  /** The transform its inputs were trained with; apply the same one at evaluation and serving. */
  readonly normalization: Normalization;
  readonly architecture: string;
  readonly history: TrainingHistory;
}

export interface ClassMetrics {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  /** Images of this class in the evaluated subset. */
  support: number;
}

export interface Metrics {
  subset: SubsetName;
  count: number;
  accuracy: number;
  loss: number;
  classes: string[];
  /** confusion[actual][predicted] counts. */
  confusion: number[][];
  perClass: ClassMetrics[];
}

declare module '../../main/engine/node-api.ts' {
  interface PortValueTypes {
    dataset: Dataset;
    model: ModelValue;
    trainedModel: TrainedModel;
    metrics: Metrics;
  }
}

type ModelMeta<T> = Omit<T, 'model'>;

async function saveWithModel<T extends { model: tf.LayersModel }>(value: T, dir: string): Promise<void> {
  const { model, ...meta } = value;
  await mkdir(join(dir, 'model'), { recursive: true });
  await saveModel(model, join(dir, 'model'));
  await writeFile(join(dir, 'meta.json'), JSON.stringify(meta, null, 2));
}

async function loadWithModel<T extends { model: tf.LayersModel }>(dir: string): Promise<T> {
  const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as ModelMeta<T>;
  const model = await loadModel(join(dir, 'model'));
  return { ...meta, model } as T;
}

export const datasetPort = definePortType({
  id: 'dataset',
  label: 'Dataset',
  color: '#3b82f6',
  description: 'Labelled images (8-bit pixels, class names, train/validation/test subsets, normalisation).',
  sizeBytes: datasetSizeBytes,
  save: saveDataset,
  load: loadDataset,
});

export const modelPort = definePortType({
  id: 'model',
  label: 'Model',
  color: '#a855f7',
  description: 'A classifier architecture with initial weights, not yet trained on the dataset.',
  dispose: (v) => v.model.dispose(),
  sizeBytes: (v) => modelSizeBytes(v.model),
  save: saveWithModel,
  load: loadWithModel,
});

export const trainedModelPort = definePortType({
  id: 'trainedModel',
  label: 'Trained model',
  color: '#f97316',
  description: 'A fitted classifier with its class names, input normalisation and training history.',
  dispose: (v) => v.model.dispose(),
  sizeBytes: (v) => modelSizeBytes(v.model),
  save: saveWithModel,
  load: loadWithModel,
});

export const metricsPort = definePortType({
  id: 'metrics',
  label: 'Metrics',
  color: '#22c55e',
  description: 'Accuracy, loss, confusion matrix and per-class precision/recall on one subset.',
  sizeBytes: (v) => 64 * (v.classes.length + 2) ** 2,
  save: async (v, dir) => writeFile(join(dir, 'metrics.json'), JSON.stringify(v, null, 2)),
  load: async (dir) => JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8')) as Metrics,
});

export const allPortTypes: PortTypeDefinition[] = [datasetPort, modelPort, trainedModelPort, metricsPort];
