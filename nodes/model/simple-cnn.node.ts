import * as tf from '@tensorflow/tfjs';
import { defineNode } from '../../main/engine/node-api.ts';
import type { Random } from '../../main/engine/random.ts';
import type { ImageShape } from '../_lib/dataset.ts';
import { assertClassifierClasses, layerSummary, summaryTable } from '../_lib/model.ts';
import type { ModelValue } from '../_lib/ports.ts';

export interface SimpleCnnOptions {
  inputShape: ImageShape;
  numClasses: number;
  blocks: number;
  filters: number;
  kernelSize: number;
  denseUnits: number;
  dropout: number;
}

/**
 * conv → ReLU → max-pool blocks (filters doubling per block), flatten, an optional dense ReLU
 * layer with dropout, and a softmax classifier. He initialisation for ReLU layers, Glorot for
 * the softmax layer, all seeded from `random` so the same seed gives the same initial weights.
 */
export function buildSimpleCnn(o: SimpleCnnOptions, random: Random): tf.Sequential {
  const [h, w] = o.inputShape;
  const model = tf.sequential();
  let size = Math.min(h, w);
  for (let b = 0; b < o.blocks; b++) {
    model.add(
      tf.layers.conv2d({
        ...(b === 0 ? { inputShape: [...o.inputShape] } : {}),
        filters: o.filters * 2 ** b,
        kernelSize: o.kernelSize,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: random.seed() }),
        name: `conv${b + 1}`,
      }),
    );
    if (size >= 2) {
      model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${b + 1}` }));
      size = Math.floor(size / 2);
    }
  }
  model.add(tf.layers.flatten({ name: 'flatten' }));
  if (o.denseUnits > 0) {
    model.add(
      tf.layers.dense({
        units: o.denseUnits,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: random.seed() }),
        name: 'dense',
      }),
    );
  }
  if (o.dropout > 0) model.add(tf.layers.dropout({ rate: o.dropout, name: 'dropout' }));
  model.add(
    tf.layers.dense({
      units: o.numClasses,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: random.seed() }),
      name: 'classifier',
    }),
  );
  return model;
}

export const simpleCnn = defineNode({
  id: 'dlflow:model:simple-cnn',
  name: 'Simple CNN',
  category: 'model',
  description: [
    'A small convolutional classifier built from scratch: *blocks* of 3×3 convolution + ReLU +',
    '2×2 max-pooling (filters double in each block), then a dense ReLU layer with dropout and a',
    'softmax over the classes. Input shape and class count come from the connected dataset.',
    'Weights are initialised (He / Glorot) from the seed; connect it to a training node.',
  ].join('\n'),
  inputs: { dataset: { type: 'dataset', label: 'Dataset', description: 'Only its image shape and classes are used.' } },
  params: {
    blocks: { kind: 'integer', default: 2, min: 1, max: 6, label: 'Conv blocks', inline: true },
    filters: { kind: 'integer', default: 16, min: 1, max: 512, label: 'Filters (first block)' },
    kernelSize: { kind: 'integer', default: 3, min: 1, max: 11, label: 'Kernel size' },
    denseUnits: { kind: 'integer', default: 64, min: 0, max: 4096, label: 'Dense units', description: '0 leaves out the dense layer.' },
    dropout: { kind: 'number', default: 0.25, min: 0, max: 0.9, step: 0.05, label: 'Dropout' },
    seed: { kind: 'seed', default: 1, label: 'Seed' },
  },
  outputs: { model: { type: 'model', label: 'Model' } },
  previews: ['table'],
  async run({ dataset }, params, ctx) {
    assertClassifierClasses(dataset.classes);
    const options: SimpleCnnOptions = { inputShape: dataset.imageShape, numClasses: dataset.classes.length, ...params };
    const model = buildSimpleCnn(options, ctx.random);
    const value: ModelValue = {
      model,
      inputShape: dataset.imageShape,
      classes: [...dataset.classes],
      architecture: `simple-cnn ${params.blocks}x${params.filters}`,
      layers: layerSummary(model),
    };
    return { model: value };
  },
  preview: ({ model }) => summaryTable(model.layers, model.architecture),
  summary: ({ model }) => `${model.layers.reduce((n, l) => n + l.params, 0).toLocaleString('en-US')} parameters`,
});
