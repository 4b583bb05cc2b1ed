import * as tf from '@tensorflow/tfjs';
import { NodeError } from '../../main/engine/errors.ts';
import { defineNode } from '../../main/engine/node-api.ts';
import type { Random } from '../../main/engine/random.ts';
import type { TablePreview } from '../../main/protocol/index.ts';
import type { ImageShape } from '../_lib/dataset.ts';
import { assertClassifierClasses, layerSummary, summaryTable } from '../_lib/model.ts';
import type { LayerRow } from '../_lib/model.ts';
import type { ModelValue } from '../_lib/ports.ts';
import { estimateTrainingMemory, formatBytes } from '../_lib/trainer.ts';

export const INITIALIZERS = ['he-normal', 'he-uniform', 'glorot-uniform', 'glorot-normal', 'lecun-normal', 'lecun-uniform'] as const;
export type InitializerName = (typeof INITIALIZERS)[number];
const ACTIVATIONS = ['relu', 'relu6', 'elu', 'selu', 'swish', 'tanh'] as const;

/** A seeded kernel initialiser by name (Glorot = Xavier; He for ReLU-family; LeCun for SELU). */
export function initializer(name: InitializerName, seed: number): tf.serialization.Serializable {
  switch (name) {
    case 'he-normal':
      return tf.initializers.heNormal({ seed });
    case 'he-uniform':
      return tf.initializers.heUniform({ seed });
    case 'glorot-uniform':
      return tf.initializers.glorotUniform({ seed });
    case 'glorot-normal':
      return tf.initializers.glorotNormal({ seed });
    case 'lecun-normal':
      return tf.initializers.leCunNormal({ seed });
    case 'lecun-uniform':
      return tf.initializers.leCunUniform({ seed });
    default: {
      const never: never = name;
      throw new Error(`unknown initializer ${String(never)}`);
    }
  }
}

export interface CnnSpec {
  blocks: number;
  convsPerBlock: number;
  filters: number;
  filterGrowth: 'double' | 'same';
  kernelSize: number;
  stride: number;
  padding: 'same' | 'valid';
  batchNorm: boolean;
  activation: (typeof ACTIVATIONS)[number];
  pooling: 'max' | 'average' | 'none';
  blockDropout: number;
  head: 'global-average' | 'global-max' | 'flatten';
  dense: string;
  denseDropout: number;
  initializer: InitializerName;
}

/** Parses "128, 64" into [128, 64]; empty means no hidden dense layers. */
export function parseDenseSizes(text: string, param = 'dense'): number[] {
  const parts = text.split(/[,\s]+/).filter((s) => s !== '');
  const sizes = parts.map(Number);
  const bad = parts.find((p, i) => !(Number.isInteger(sizes[i]) && sizes[i] > 0 && sizes[i] <= 65536));
  if (bad !== undefined) throw new NodeError(`"${bad}" is not a layer size; write positive integers separated by commas, e.g. "128, 64"`, { param });
  return sizes;
}

/** `checkParams` of a `dense` sizes param: its parse error, if any. */
export function checkDenseSizes(text: string): { param: string; message: string }[] {
  try {
    parseDenseSizes(text);
    return [];
  } catch (error) {
    return [{ param: 'dense', message: (error as Error).message }];
  }
}

/**
 * Spatial size after each block, computed before any layer is built, so an impossible stack
 * (the image shrinks below 1 pixel) fails with a message naming the param to change.
 */
export function plannedSizes(inputShape: ImageShape, s: Pick<CnnSpec, 'blocks' | 'convsPerBlock' | 'kernelSize' | 'stride' | 'padding' | 'pooling'>): number[][] {
  let [h, w] = inputShape;
  const out: number[][] = [];
  for (let b = 1; b <= s.blocks; b++) {
    for (let k = 0; k < s.convsPerBlock; k++) {
      const stride = k === 0 ? s.stride : 1;
      [h, w] = [h, w].map((n) => (s.padding === 'same' ? Math.ceil(n / stride) : Math.floor((n - s.kernelSize) / stride) + 1));
      if (h < 1 || w < 1)
        throw new NodeError(
          `block ${b} would shrink the ${inputShape[0]}x${inputShape[1]} image below one pixel; use fewer blocks, "same" padding, a smaller kernel or stride`,
          { param: 'blocks' },
        );
    }
    if (s.pooling !== 'none' && Math.min(h, w) >= 2) [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
    out.push([h, w]);
  }
  return out;
}

/** Builds the CNN: blocks of conv → (BN) → activation (× convsPerBlock) → pool → dropout, head, softmax. */
export function buildCnn(inputShape: ImageShape, numClasses: number, s: CnnSpec, random: Random): tf.Sequential {
  plannedSizes(inputShape, s);
  const hidden = parseDenseSizes(s.dense);
  const model = tf.sequential();
  let size = Math.min(inputShape[0], inputShape[1]);
  const init = (): tf.serialization.Serializable => initializer(s.initializer, random.seed());
  for (let b = 1; b <= s.blocks; b++) {
    const filters = s.filterGrowth === 'double' ? s.filters * 2 ** (b - 1) : s.filters;
    for (let k = 1; k <= s.convsPerBlock; k++) {
      const name = s.convsPerBlock > 1 ? `conv${b}_${k}` : `conv${b}`;
      model.add(
        tf.layers.conv2d({
          ...(model.layers.length === 0 ? { inputShape: [...inputShape] } : {}),
          filters,
          kernelSize: s.kernelSize,
          strides: k === 1 ? s.stride : 1,
          padding: s.padding,
          // With batch norm the bias is redundant (BN's beta shifts) and the activation follows BN.
          useBias: !s.batchNorm,
          activation: s.batchNorm ? 'linear' : s.activation,
          kernelInitializer: init() as never,
          name,
        }),
      );
      if (s.batchNorm) {
        // Momentum 0.9, not TF.js's 0.99: short CPU runs must reach usable moving statistics for validation.
        model.add(tf.layers.batchNormalization({ momentum: 0.9, name: `${name}_bn` }));
        model.add(tf.layers.activation({ activation: s.activation, name: `${name}_${s.activation}` }));
      }
      size = Math.min(...(model.outputs[0].shape.slice(1, 3) as number[]));
    }
    if (s.pooling !== 'none' && size >= 2) {
      const args = { poolSize: 2, strides: 2, name: `pool${b}` };
      model.add(s.pooling === 'max' ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args));
      size = Math.floor(size / 2);
    }
    if (s.blockDropout > 0) model.add(tf.layers.dropout({ rate: s.blockDropout, name: `dropout${b}` }));
  }
  if (s.head === 'flatten') model.add(tf.layers.flatten({ name: 'flatten' }));
  else if (s.head === 'global-average') model.add(tf.layers.globalAveragePooling2d({ name: 'global_avg_pool' }));
  else model.add(tf.layers.globalMaxPooling2d({ name: 'global_max_pool' }));
  hidden.forEach((units, i) => {
    model.add(tf.layers.dense({ units, activation: s.activation, kernelInitializer: init() as never, name: `dense${i + 1}` }));
    if (s.denseDropout > 0) model.add(tf.layers.dropout({ rate: s.denseDropout, name: `dense${i + 1}_dropout` }));
  });
  model.add(
    tf.layers.dense({
      units: numClasses,
      activation: 'softmax',
      // Glorot for the softmax layer whatever the hidden layers use: it is not a ReLU layer.
      kernelInitializer: tf.initializers.glorotUniform({ seed: random.seed() }),
      name: 'classifier',
    }),
  );
  return model;
}

/** The architecture table with parameter count, output shapes and a training-memory estimate. */
export function architecturePreview(rows: readonly LayerRow[], title: string, memory: string): TablePreview {
  const t = summaryTable(rows, title);
  return { ...t, title: `${t.title} · ${memory}` };
}

export function memoryNote(model: tf.LayersModel, batchSize = 32): string {
  const est = estimateTrainingMemory(model, 'adam');
  return `training ≈ ${formatBytes(est.totalBytes(batchSize))} per batch of ${batchSize} (${formatBytes(est.activationBytesPerImage)}/image)`;
}

export const cnnBuilder = defineNode({
  id: 'dlflow:model:cnn-builder',
  name: 'CNN builder',
  category: 'model',
  description: [
    'Builds a convolutional classifier from scratch: **blocks** of convolution → (batch norm) →',
    'activation, repeated *convs per block* times, then pooling and dropout; then global pooling or',
    'flatten, optional dense layers, and a softmax over the dataset\'s classes.',
    '',
    '- *Filters* are for the first block; with *double* each block has twice the previous.',
    '- *Initialiser*: He (Kaiming) suits ReLU-family activations, Glorot (Xavier) tanh, LeCun SELU.',
    '  Weights are drawn from the seed: the same seed gives the same initial model.',
    '- *Dense layers*: comma-separated sizes, e.g. `128, 64`; empty for none.',
    '',
    'Its preview lists every layer with its output shape and parameter count, the total, and an',
    'estimate of training memory per batch of 32 — it appears as soon as the node runs, before training.',
  ].join('\n'),
  inputs: { dataset: { type: 'dataset', label: 'Dataset', description: 'Only its image shape and classes are used.' } },
  params: {
    blocks: { kind: 'integer', default: 3, min: 1, max: 8, label: 'Blocks', inline: true },
    convsPerBlock: { kind: 'integer', default: 1, min: 1, max: 4, label: 'Convs per block' },
    filters: { kind: 'integer', default: 16, min: 1, max: 1024, label: 'Filters (first block)', inline: true },
    filterGrowth: { kind: 'enum', default: 'double', options: ['double', 'same'], label: 'Filters per block' },
    kernelSize: { kind: 'integer', default: 3, min: 1, max: 11, label: 'Kernel size' },
    stride: { kind: 'integer', default: 1, min: 1, max: 4, label: 'Stride (first conv of a block)' },
    padding: { kind: 'enum', default: 'same', options: ['same', 'valid'], label: 'Padding' },
    batchNorm: { kind: 'boolean', default: true, label: 'Batch norm' },
    activation: { kind: 'enum', default: 'relu', options: ACTIVATIONS, label: 'Activation' },
    pooling: { kind: 'enum', default: 'max', options: ['max', 'average', 'none'], label: 'Pooling (2×2)' },
    blockDropout: { kind: 'number', default: 0, min: 0, max: 0.9, step: 0.05, label: 'Dropout after each block' },
    head: { kind: 'enum', default: 'global-average', options: ['global-average', 'global-max', 'flatten'], label: 'Head' },
    dense: { kind: 'string', default: '64', label: 'Dense layers', description: 'Comma-separated sizes, e.g. `128, 64`; empty for none.' },
    denseDropout: { kind: 'number', default: 0.3, min: 0, max: 0.9, step: 0.05, label: 'Dense dropout' },
    initializer: { kind: 'enum', default: 'he-normal', options: INITIALIZERS, label: 'Initialiser' },
    seed: { kind: 'seed', default: 1, label: 'Seed' },
  },
  outputs: { model: { type: 'model', label: 'Model' } },
  previews: ['table'],
  checkParams: (p) => checkDenseSizes(p.dense),
  async run({ dataset }, params, ctx) {
    assertClassifierClasses(dataset.classes);
    const model = buildCnn(dataset.imageShape, dataset.classes.length, params, ctx.random);
    const layers = layerSummary(model);
    const architecture = `cnn ${params.blocks}x${params.filters}${params.batchNorm ? ' bn' : ''} ${params.head}`;
    ctx.preview(architecturePreview(layers, architecture, memoryNote(model)));
    const value: ModelValue = { model, inputShape: dataset.imageShape, classes: [...dataset.classes], architecture, layers };
    return { model: value };
  },
  preview: ({ model }) => architecturePreview(model.layers, model.architecture, memoryNote(model.model)),  summary: ({ model }) => `${model.model.countParams().toLocaleString('en-US')} parameters`,
});
