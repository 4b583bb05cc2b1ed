import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { NodeError } from '../../main/engine/errors.ts';
import { defineNode } from '../../main/engine/node-api.ts';
import type { Random } from '../../main/engine/random.ts';
import type { Dataset, Normalization } from '../_lib/dataset.ts';
import { assertClassifierClasses, cloneModel, layerSummary, summaryTable } from '../_lib/model.ts';
import { GraphFeaturesLayer, graphInputShape, graphModelSync } from '../_lib/graph-features-layer.ts';
import { MODEL_ZOO, fetchModel, loadLayersModelFrom, modelFormatOf, zooEntry } from '../_lib/model-zoo.ts';
import type { ModelValue } from '../_lib/ports.ts';
import { ResizeLayer } from '../_lib/resize-layer.ts';
import { leafLayers } from '../../main/engine/parallel/index.ts';
import { checkDenseSizes, initializer, parseDenseSizes } from './cnn-builder.node.ts';

/** A model value with the input normalisation its backbone expects (now part of ModelValue). */
export type ModelWithNormalization = ModelValue;

const TRAINING = ['freeze-all', 'fine-tune-last-n', 'fine-tune-all'] as const;
const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);
const HEAD_CLASSES = new Set(['Dense', 'Dropout', 'Activation', 'Softmax']);

/** The layer to cut at when none is named: the last one before the trailing classifier layers. */
export function autoCutLayer(model: tf.LayersModel): tf.layers.Layer {
  for (let i = model.layers.length - 1; i >= 0; i--) if (!HEAD_CLASSES.has(model.layers[i].getClassName())) return model.layers[i];
  return model.layers[0];
}

/** Where the model comes from: a folder in the model cache (downloaded if needed) or a local path. */
async function resolveSource(
  p: { backbone: string; location: string; sha256: string },
  ctx: { baseDir: string; signal: AbortSignal; progress(f: number, note?: string): void; log(m: string, level?: 'info' | 'warn'): void },
): Promise<{ path: string; label: string; normalization?: Normalization; featureLayer?: string; inputShape?: [number, number, number] }> {
  const fetchOpts = { signal: ctx.signal, onProgress: (f: number, note: string) => ctx.progress(f * 0.9, note), log: ctx.log };
  if (p.backbone !== 'custom') {
    const entry = zooEntry(p.backbone);
    if (!entry) throw new NodeError(`unknown backbone "${p.backbone}"`, { param: 'backbone' });
    try {
      const path = await fetchModel(entry.url, { ...fetchOpts, sha256: entry.sha256 });
      return { path, label: entry.name, normalization: entry.normalization, featureLayer: entry.featureLayer, inputShape: entry.inputShape };
    } catch (error) {
      throw new NodeError((error as Error).message, { param: 'backbone' });
    }
  }
  const loc = p.location.trim();
  if (loc === '') throw new NodeError('give the path or URL of a TF.js model.json (or pick a catalogue backbone)', { param: 'location' });
  if (isUrl(loc)) {
    try {
      const path = await fetchModel(loc, { ...fetchOpts, sha256: p.sha256.trim() ? { 'model.json': p.sha256.trim().toLowerCase() } : undefined });
      return { path, label: loc };
    } catch (error) {
      throw new NodeError((error as Error).message, { param: 'location' });
    }
  }
  return { path: isAbsolute(loc) ? loc : resolve(ctx.baseDir, loc), label: loc };
}

interface BuildOptions {
  cutLayer: string;
  pooling: 'global-average' | 'global-max' | 'flatten';
  training: (typeof TRAINING)[number];
  fineTuneLayers: number;
  dense: string;
  dropout: number;
  interpolation: 'bilinear' | 'nearest';
}

/**
 * Builds dataset-shaped input → (channel adapter) → (resize) → backbone cut at a layer →
 * pooling → new head. The result shares layers with `base`; the caller clones it.
 */
export function buildTransferModel(
  base: tf.LayersModel,
  dataset: Pick<Dataset, 'imageShape' | 'classes'>,
  o: BuildOptions & { defaultCut?: string },
  random: Random,
): tf.LayersModel {
  const cutName = o.cutLayer.trim() || o.defaultCut;
  let cut: tf.layers.Layer;
  if (cutName) {
    try {
      cut = base.getLayer(cutName);
    } catch {
      const names = base.layers.map((l) => l.name);
      throw new NodeError(`the backbone has no layer "${cutName}"; its last layers are ${names.slice(-8).join(', ')}`, { param: 'cutLayer' });
    }
  } else cut = autoCutLayer(base);
  const backbone = tf.model({ inputs: base.inputs, outputs: cut.output as tf.SymbolicTensor, name: 'backbone' });

  // Freezing, on the backbone's own layers.
  const withWeights = backbone.layers.filter((l) => l.weights.length > 0);
  for (const l of backbone.layers) l.trainable = o.training === 'fine-tune-all';
  if (o.training === 'fine-tune-last-n') for (const l of withWeights.slice(-Math.max(0, o.fineTuneLayers))) l.trainable = true;

  const bShape = base.inputs[0].shape; // [null, H, W, C]
  const { input, x } = adaptInput(dataset, [bShape[1] ?? null, bShape[2] ?? null, bShape[3] ?? null], o.interpolation);
  return withHead(input, backbone.apply(x) as tf.SymbolicTensor, dataset, o, random);
}

/** Dataset-shaped input, then a fixed channel adapter and a resize when the backbone needs them. */
function adaptInput(
  dataset: Pick<Dataset, 'imageShape'>,
  want: (number | null)[],
  interpolation: 'bilinear' | 'nearest',
): { input: tf.SymbolicTensor; x: tf.SymbolicTensor } {
  const [h, w, c] = dataset.imageShape;
  const [H, W, C] = [want[0] ?? h, want[1] ?? w, want[2] ?? c];
  const input = tf.input({ shape: [h, w, c], name: 'image' });
  let x: tf.SymbolicTensor = input;
  if (C !== c) {
    if (!((c === 1 && C === 3) || (c === 3 && C === 1)))
      throw new NodeError(`the backbone takes ${C}-channel images and the dataset has ${c} channels`, { port: 'dataset' });
    // A fixed 1×1 convolution: grey → RGB copies the channel, RGB → grey averages.
    const adapter = tf.layers.conv2d({
      filters: C,
      kernelSize: 1,
      useBias: false,
      trainable: false,
      kernelInitializer: tf.initializers.constant({ value: c === 1 ? 1 : 1 / 3 }),
      name: c === 1 ? 'grey_to_rgb' : 'rgb_to_grey',
    });
    x = adapter.apply(x) as tf.SymbolicTensor;
  }
  if (H !== h || W !== w) x = new ResizeLayer({ height: H, width: W, interpolation, name: `resize_${H}x${W}` }).apply(x) as tf.SymbolicTensor;
  return { input, x };
}

/** Pooling of feature maps, the new dense layers and dropout, and the softmax classifier. */
function withHead(
  input: tf.SymbolicTensor,
  features: tf.SymbolicTensor,
  dataset: Pick<Dataset, 'classes'>,
  o: Pick<BuildOptions, 'pooling' | 'dense' | 'dropout'>,
  random: Random,
): tf.LayersModel {
  let x = features;
  if (x.shape.length === 4)
    x = (
      o.pooling === 'flatten'
        ? tf.layers.flatten({ name: 'flatten' })
        : o.pooling === 'global-max'
          ? tf.layers.globalMaxPooling2d({ name: 'global_max_pool' })
          : tf.layers.globalAveragePooling2d({ name: 'global_avg_pool' })
    ).apply(x) as tf.SymbolicTensor;
  else if (x.shape.length !== 2) x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  const sizes = parseDenseSizes(o.dense);
  sizes.forEach((units, i) => {
    x = tf.layers.dense({ units, activation: 'relu', kernelInitializer: initializer('he-normal', random.seed()) as never, name: `head_dense${i + 1}` }).apply(x) as tf.SymbolicTensor;
    if (o.dropout > 0) x = tf.layers.dropout({ rate: o.dropout, name: `head_dropout${i + 1}` }).apply(x) as tf.SymbolicTensor;
  });
  if (sizes.length === 0 && o.dropout > 0) x = tf.layers.dropout({ rate: o.dropout, name: 'head_dropout' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: dataset.classes.length, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: random.seed() }), name: 'classifier' })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'transfer' });
}

/** A frozen GraphModel feature extractor (cut at `cutLayer`, a graph node name, when given) with a new head. */
export function buildGraphTransferModel(
  modelJsonPath: string,
  dataset: Pick<Dataset, 'imageShape' | 'classes'>,
  o: BuildOptions,
  random: Random,
): tf.LayersModel {
  const graph = graphModelSync(modelJsonPath);
  const { input, x } = adaptInput(dataset, graphInputShape(graph), o.interpolation);
  let features: tf.SymbolicTensor;
  try {
    features = new GraphFeaturesLayer({ modelPath: modelJsonPath, outputNode: o.cutLayer.trim(), name: 'backbone_graph' }).apply(x) as tf.SymbolicTensor;
  } catch (error) {
    throw new NodeError(`the graph backbone cannot run${o.cutLayer.trim() ? ` up to node "${o.cutLayer.trim()}"` : ''}: ${(error as Error).message}`, {
      param: o.cutLayer.trim() ? 'cutLayer' : 'location',
    });
  }
  return withHead(input, features, dataset, o, random);
}

/** One normalisation value per dataset channel (grey input is copied to RGB inside the model). */
function perChannel(norm: Normalization, channels: number): Normalization {
  return {
    mean: Array.from({ length: channels }, (_, i) => norm.mean[Math.min(i, norm.mean.length - 1)]),
    std: Array.from({ length: channels }, (_, i) => norm.std[Math.min(i, norm.std.length - 1)]),
  };
}

async function graphBackbone(
  jsonPath: string,
  source: { label: string; normalization?: Normalization },
  dataset: Dataset,
  params: BuildOptions & { seed: number },
  ctx: { random: Random; log(m: string, level?: 'info' | 'warn'): void; progress(f: number, note?: string): void },
): Promise<ModelValue> {
  if (params.training !== 'freeze-all') ctx.log(`${source.label} is a graph model: it is used frozen, whatever "${params.training}" says`, 'warn');
  let norm = source.normalization;
  if (!norm) {
    ctx.log('the model does not say how its inputs were normalised; assuming pixels / 255', 'warn');
    norm = { mean: [0], std: [1] };
  }
  const composite = buildGraphTransferModel(jsonPath, dataset, params, ctx.random);
  try {
    const model = await cloneModel(composite);
    const layers = layerSummary(model);
    const architecture = `${source.label} (graph, frozen) → ${dataset.classes.length} classes`;
    ctx.progress(1, 'ready');
    return { model, inputShape: dataset.imageShape, classes: [...dataset.classes], architecture, layers, inputNormalization: perChannel(norm, dataset.imageShape[2]) };
  } finally {
    composite.dispose();
  }
}

const countParams = (layers: readonly tf.layers.Layer[], trainable: boolean): number =>
  layers.reduce((n, l) => n + (l.trainable === trainable ? l.countParams() : 0), 0);

export const pretrainedBackbone = defineNode({
  id: 'dlflow:model:pretrained-backbone',
  name: 'Pretrained backbone',
  category: 'model',
  description: [
    'Transfer learning: a network pretrained on ImageNet (or any TF.js LayersModel) cut at a feature',
    'layer, with a new classifier head for the connected dataset\'s classes.',
    '',
    '- **Backbone**: a catalogue model — MobileNet v1 (widths 0.25–1.0, inputs 128–224, TF.js layers',
    '  models) or MobileNet v2 (TF Hub feature vectors, graph models used frozen) — downloaded on first',
    '  use into the model cache with progress, verified, then used offline; or *custom*: the path or',
    '  http(s) URL of a TF.js `model.json` (e.g. one saved by *Save model*), layers or graph model.',
    '- **Cut layer**: where the features are taken; empty = the catalogue\'s feature layer, or for a',
    '  custom model the last layer before its classifier (for a graph model: an output node name).',
    '- **Training**: freeze the whole backbone (train the head only), fine-tune its last N layers, or',
    '  fine-tune all. For the two-phase recipe keep *freeze all* and set *fine-tune epochs* on the',
    '  training node: it trains the head first, then unfreezes the last layers at a lower rate.',
    '',
    'Dataset images are resized to the backbone\'s input size and normalised the way it expects',
    '(MobileNet: [-1, 1]); grey images are copied to RGB. The training node applies this',
    'normalisation automatically.',
  ].join('\n'),
  inputs: { dataset: { type: 'dataset', label: 'Dataset', description: 'Only its image shape and classes are used.' } },
  params: {
    backbone: { kind: 'enum', default: 'mobilenet_v1_0.25_128', options: [...MODEL_ZOO.map((e) => e.id), 'custom'], label: 'Backbone', inline: true },
    location: { kind: 'string', default: '', label: 'Custom model', description: 'Path (relative to the pipeline file) or http(s) URL of a TF.js `model.json`, for backbone *custom*.' },
    sha256: { kind: 'string', default: '', label: 'Expected SHA-256', description: 'Optional: SHA-256 of a custom URL\'s model.json; the download fails if it differs.' },
    cutLayer: { kind: 'string', default: '', label: 'Cut at layer', description: 'Name of the feature layer; empty for the default.' },
    pooling: { kind: 'enum', default: 'global-average', options: ['global-average', 'global-max', 'flatten'], label: 'Pooling of feature maps' },
    training: { kind: 'enum', default: 'freeze-all', options: TRAINING, label: 'Backbone training', inline: true },
    fineTuneLayers: { kind: 'integer', default: 2, min: 0, max: 1000, label: 'Layers to fine-tune (last N)', description: 'For *fine-tune-last-n*: layers with weights, counted from the cut.' },
    dense: { kind: 'string', default: '', label: 'Head dense layers', description: 'Comma-separated sizes, e.g. `128`; empty for a linear classifier on the features.' },
    dropout: { kind: 'number', default: 0.2, min: 0, max: 0.9, step: 0.05, label: 'Head dropout' },
    interpolation: { kind: 'enum', default: 'bilinear', options: ['bilinear', 'nearest'], label: 'Resize interpolation' },
    seed: { kind: 'seed', default: 1, label: 'Seed', description: 'Initial weights of the new head.' },
  },
  outputs: { model: { type: 'model', label: 'Model' } },
  previews: ['table'],
  async fingerprint(p, { baseDir }) {
    if (p.backbone !== 'custom' || isUrl(p.location) || p.location.trim() === '') return '';
    const path = resolve(baseDir, p.location.trim());
    const json = path.endsWith('.json') ? path : `${path}/model.json`;
    try {
      const s = await stat(json);
      return `${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  },
  checkParams: (p) => checkDenseSizes(p.dense),
  async run({ dataset }, params, ctx) {
    assertClassifierClasses(dataset.classes);
    const source = await resolveSource(params, ctx);
    ctx.throwIfCancelled();
    ctx.progress(0.9, 'loading the backbone');
    const where = { param: params.backbone === 'custom' ? 'location' : 'backbone' };
    let format: Awaited<ReturnType<typeof modelFormatOf>>;
    try {
      format = await modelFormatOf(source.path);
    } catch (error) {
      throw new NodeError((error as Error).message, where);
    }
    if (format.format === 'graph-model') return { model: await graphBackbone(format.jsonPath, source, dataset, params, ctx) };
    let loaded;
    try {
      loaded = await loadLayersModelFrom(source.path);
    } catch (error) {
      throw new NodeError((error as Error).message, where);
    }
    const base = loaded.model;
    let composite: tf.LayersModel | undefined;
    try {
      const meta = (loaded.metadata?.dlflow ?? undefined) as { normalization?: Normalization } | undefined;
      let norm = source.normalization ?? meta?.normalization;
      if (!norm) {
        ctx.log('the model does not say how its inputs were normalised; assuming pixels / 255', 'warn');
        norm = { mean: [0, 0, 0], std: [1, 1, 1] };
      }
      const inputNormalization = perChannel(norm, dataset.imageShape[2]);
      composite = buildTransferModel(base, dataset, { ...params, defaultCut: source.featureLayer }, ctx.random);
      // A standalone copy, so the value owns its weights and the loaded model can go.
      const model = await cloneModel(composite);
      const layers = layerSummary(model);
      const leaves = leafLayers(model);
      const architecture = `${source.label} → ${dataset.classes.length} classes (${params.training}${params.training === 'fine-tune-last-n' ? ` ${params.fineTuneLayers}` : ''})`;
      const value: ModelWithNormalization = { model, inputShape: dataset.imageShape, classes: [...dataset.classes], architecture, layers, inputNormalization };
      ctx.log(`backbone ${source.label}: ${countParams(leaves, true).toLocaleString('en-US')} trainable and ${countParams(leaves, false).toLocaleString('en-US')} frozen parameters`);
      ctx.progress(1, 'ready');
      return { model: value };
    } finally {
      // The composite shares the backbone's layers with `base`: dispose each layer once.
      for (const layer of new Set([...(composite ? leafLayers(composite) : []), ...base.layers])) {
        try {
          layer.dispose();
        } catch {
          // Already disposed through the other model.
        }
      }
    }
  },
  preview: ({ model }) => {
    const leaves = leafLayers(model.model);
    const t = summaryTable(model.layers, model.architecture);
    return { ...t, title: `${t.title} · ${countParams(leaves, true).toLocaleString('en-US')} trainable` };
  },
  summary: ({ model }) => {
    const leaves = leafLayers(model.model);
    return `${countParams(leaves, true).toLocaleString('en-US')} trainable, ${countParams(leaves, false).toLocaleString('en-US')} frozen parameters`;
  },
});
