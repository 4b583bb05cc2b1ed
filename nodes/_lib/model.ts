/**
 * Helpers for tf.LayersModel values: cloning (so nodes never train their input model in place),
 * saving/loading to a folder for the disk cache, and a per-layer summary for previews.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { TablePreview } from '../../main/protocol/index.ts';
import { NodeError } from '../../main/engine/errors.ts';

/** Topology + weights of a model, detached from any tensors. */
export interface ModelArtifacts {
  modelTopology: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
}

/** Serialises a model (architecture and current weights) without touching it. */
export async function modelArtifacts(model: tf.LayersModel): Promise<ModelArtifacts> {
  let captured: ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      if (!a.modelTopology || !a.weightSpecs || !a.weightData) throw new Error('model serialisation produced no weights');
      const weightData = Array.isArray(a.weightData) ? tf.io.concatenateArrayBuffers(a.weightData) : a.weightData;
      captured = { modelTopology: a.modelTopology as object, weightSpecs: a.weightSpecs, weightData };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!captured) throw new Error('model serialisation produced nothing');
  return captured;
}

export async function modelFromArtifacts(a: ModelArtifacts): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs, weightData: a.weightData }));
}

/** A new model with the same architecture and a copy of the weights; the source is not changed. */
export async function cloneModel(model: tf.LayersModel): Promise<tf.LayersModel> {
  return modelFromArtifacts(await modelArtifacts(model));
}

/** Writes `model.json` (TF.js layers format, loadable by tf.loadLayersModel) and `weights.bin`. */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  const a = await modelArtifacts(model);
  await writeFile(join(dir, 'weights.bin'), new Uint8Array(a.weightData));
  const json = {
    format: 'layers-model',
    generatedBy: 'dlflow',
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
  };
  await writeFile(join(dir, 'model.json'), JSON.stringify(json));
}

export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const buf = await readFile(join(dir, 'weights.bin'));
  const weightData = new Uint8Array(buf).buffer;
  return modelFromArtifacts({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData,
  });
}

export interface LayerRow {
  name: string;
  type: string;
  outputShape: string;
  params: number;
}

/** One row per layer: name, class, output shape (batch dimension as `?`), parameter count. */
export function layerSummary(model: tf.LayersModel): LayerRow[] {
  return model.layers.map((layer) => {
    const shape = layer.outputShape;
    const fmt = (s: (number | null)[]): string => `[${s.map((d) => (d === null ? '?' : d)).join(', ')}]`;
    const outputShape = Array.isArray(shape[0]) ? (shape as (number | null)[][]).map(fmt).join(' ') : fmt(shape as (number | null)[]);
    return { name: layer.name, type: layer.getClassName(), outputShape, params: layer.countParams() };
  });
}

export function summaryTable(rows: readonly LayerRow[], title: string): TablePreview {
  const total = rows.reduce((n, r) => n + r.params, 0);
  return {
    kind: 'table',
    title: `${title} — ${total.toLocaleString('en-US')} parameters`,
    columns: ['layer', 'type', 'output shape', 'params'],
    rows: rows.map((r) => [r.name, r.type, r.outputShape, r.params]),
  };
}

/** Bytes held by a model's weights. */
export function modelSizeBytes(model: tf.LayersModel): number {
  return model.weights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1) * 4, 0);
}

/** A classifier head needs at least two classes; the message names the dataset port. */
export function assertClassifierClasses(classes: readonly string[]): void {
  if (classes.length < 2) throw new NodeError(`a classifier needs at least 2 classes, the dataset has ${classes.length}`, { port: 'dataset' });
}
