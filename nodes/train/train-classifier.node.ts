import * as tf from '@tensorflow/tfjs';
import { defineNode } from '../../main/engine/node-api.ts';
import type { RunContext } from '../../main/engine/node-api.ts';
import { NodeError } from '../../main/engine/errors.ts';
import type { CurvesPreview } from '../../main/protocol/index.ts';
import { checkModelFitsDataset, crossEntropy, predictIndices } from '../_lib/classify.ts';
import { IDENTITY_NORMALIZATION, batchIndices, batchTensors, subsetIndices } from '../_lib/dataset.ts';
import type { Dataset } from '../_lib/dataset.ts';
import { cloneModel } from '../_lib/model.ts';
import type { EpochRecord, TrainedModel, TrainingHistory } from '../_lib/ports.ts';

/** Loss/accuracy curves per epoch, train and (when present) validation. */
export function historyCurves(epochs: readonly EpochRecord[], totalEpochs: number): CurvesPreview {
  const x = epochs.map((e) => e.epoch);
  const series: CurvesPreview['series'] = [
    { name: 'train loss', group: 'loss', x, y: epochs.map((e) => e.loss) },
    { name: 'train accuracy', group: 'accuracy', x, y: epochs.map((e) => e.accuracy) },
  ];
  const val = epochs.filter((e) => e.valLoss !== undefined);
  if (val.length > 0) {
    const vx = val.map((e) => e.epoch);
    series.push(
      { name: 'validation loss', group: 'loss', x: vx, y: val.map((e) => e.valLoss!) },
      { name: 'validation accuracy', group: 'accuracy', x: vx, y: val.map((e) => e.valAccuracy!) },
    );
  }
  const last = epochs[epochs.length - 1];
  const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
  const title = last
    ? `epoch ${last.epoch}/${totalEpochs} · loss ${last.loss.toFixed(3)} · acc ${pct(last.accuracy)}` +
      (last.valAccuracy !== undefined ? ` · val acc ${pct(last.valAccuracy)}` : '')
    : 'training';
  return { kind: 'curves', title, xLabel: 'epoch', series, xMax: totalEpochs };
}

/** Lets pending events (cancel, progress delivery) run between batches. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
}

/**
 * Trains a copy of `source` on the dataset's train subset with Adam and returns the copy and
 * its history. The caller owns the returned model; on failure or cancel it is disposed here.
 */
async function fit(source: tf.LayersModel, dataset: Dataset, o: TrainOptions, ctx: RunContext): Promise<{ model: tf.LayersModel; history: TrainingHistory }> {
  const train = subsetIndices(dataset, 'train');
  const validation = dataset.subsets.validation?.length ? dataset.subsets.validation : undefined;
  const normalization = dataset.normalization ?? IDENTITY_NORMALIZATION(dataset.imageShape[2]);
  const shuffleRandom = ctx.random.fork();
  const dropoutRandom = ctx.random.fork();
  const augmentRandom = ctx.random.fork();

  const model = await cloneModel(source);
  const optimizer = tf.train.adam(o.learningRate);
  // tfjs dropout reuses one mask for every call when its layer has a seed, and Math.random when
  // it has none; setting a fresh seed per batch gives masks that differ per batch yet repeat per run.
  const dropouts = model.layers.filter((l) => l.getClassName() === 'Dropout') as (tf.layers.Layer & { seed?: number })[];
  const savedSeeds = dropouts.map((l) => l.seed);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const epochs: EpochRecord[] = [];
  const batchesPerEpoch = Math.ceil(train.length / o.batchSize);
  const started = performance.now();
  let seen = 0;
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const epochStart = performance.now();
      let lossSum = 0;
      let correct = 0;
      let count = 0;
      const batches = batchIndices(train, o.batchSize, shuffleRandom);
      for (let b = 0; b < batches.length; b++) {
        ctx.throwIfCancelled();
        const idx = batches[b];
        for (const layer of dropouts) layer.seed = dropoutRandom.seed();
        const { x, y } = batchTensors(dataset, idx, { normalization, augmentWith: augmentRandom });
        let hits: tf.Scalar | undefined;
        let lossT: tf.Scalar | null = null;
        try {
          lossT = optimizer.minimize(
            () => {
              const probs = model.apply(x, { training: true }) as tf.Tensor2D;
              hits = tf.keep(probs.argMax(-1).equal(y).sum() as tf.Scalar);
              return crossEntropy(y, probs);
            },
            true,
            variables,
          );
          const [l, h] = await Promise.all([lossT!.data(), hits!.data()]);
          if (!Number.isFinite(l[0]))
            throw new NodeError(
              `loss became ${l[0]} at epoch ${epoch}, batch ${b + 1}; try a lower learning rate (now ${o.learningRate})`,
              { param: 'learningRate' },
            );
          lossSum += l[0] * idx.length;
          correct += h[0];
          count += idx.length;
        } finally {
          x.dispose();
          y.dispose();
          lossT?.dispose();
          (hits as tf.Scalar | undefined)?.dispose();
        }
        seen += idx.length;
        const done = (epoch - 1) * batchesPerEpoch + b + 1;
        ctx.progress(done / (o.epochs * batchesPerEpoch), `epoch ${epoch}/${o.epochs} · loss ${(lossSum / count).toFixed(3)}`);
        await yieldToEventLoop();
      }
      const record: EpochRecord = { epoch, loss: lossSum / count, accuracy: correct / count, seconds: 0 };
      if (validation) {
        const v = await predictIndices(model, dataset, validation, normalization, {
          batchSize: Math.max(o.batchSize, 128),
          between: async () => {
            ctx.throwIfCancelled();
            await yieldToEventLoop();
          },
        });
        record.valLoss = v.loss;
        record.valAccuracy = v.accuracy;
      }
      record.seconds = (performance.now() - epochStart) / 1000;
      epochs.push(record);
      ctx.preview(historyCurves(epochs, o.epochs));
      ctx.log(
        `epoch ${epoch}/${o.epochs}: loss ${record.loss.toFixed(4)} acc ${record.accuracy.toFixed(4)}` +
          (record.valLoss !== undefined ? ` val_loss ${record.valLoss.toFixed(4)} val_acc ${record.valAccuracy!.toFixed(4)}` : '') +
          ` (${record.seconds.toFixed(1)} s)`,
      );
    }
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    optimizer.dispose();
    dropouts.forEach((l, i) => (l.seed = savedSeeds[i]));
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    model,
    history: {
      optimizer: 'adam',
      learningRate: o.learningRate,
      batchSize: o.batchSize,
      epochs,
      imagesPerSecond: seen / Math.max(seconds, 1e-9),
      seconds,
    },
  };
}

export const trainClassifier = defineNode({
  id: 'dlflow:train:train-classifier',
  name: 'Train classifier',
  category: 'train',
  description: [
    'Trains a copy of the connected model on the dataset\'s **train** subset with the Adam optimiser',
    'and softmax cross-entropy, and reports loss and accuracy per epoch (on the **validation** subset',
    'too, when there is one) as live curves. Batches are shuffled from the seed, and the dataset\'s',
    'augmentation steps are applied to each training batch. The input model is left untouched.',
    '',
    'The trained model keeps its class names, the input normalisation it was trained with and the',
    'training history. It is also cached on disk, so re-running the pipeline does not retrain.',
  ].join('\n'),
  inputs: {
    model: { type: 'model', label: 'Model' },
    dataset: { type: 'dataset', label: 'Dataset', description: 'Needs a train subset (add a Split node).' },
  },
  params: {
    epochs: { kind: 'integer', default: 5, min: 1, max: 10_000, label: 'Epochs', inline: true },
    batchSize: { kind: 'integer', default: 32, min: 1, max: 8192, label: 'Batch size' },
    learningRate: { kind: 'number', default: 0.001, min: 1e-7, max: 10, step: 0.0001, label: 'Learning rate' },
    seed: { kind: 'seed', default: 1, label: 'Seed', description: 'Shuffling and dropout masks.' },
  },
  outputs: { trainedModel: { type: 'trainedModel', label: 'Trained model' } },
  previews: ['curves'],
  persist: true,
  async run({ model, dataset }, params, ctx) {
    checkModelFitsDataset(model, dataset, 'dataset');
    if (!dataset.subsets.train?.length)
      throw new NodeError('the dataset has no train subset; connect it through a Split node', { port: 'dataset' });
    const { model: trained, history } = await fit(model.model, dataset, params, ctx);
    const out: TrainedModel = {
      model: trained,
      inputShape: model.inputShape,
      classes: [...dataset.classes],
      normalization: dataset.normalization ?? IDENTITY_NORMALIZATION(dataset.imageShape[2]),
      architecture: model.architecture,
      history,
    };
    return { trainedModel: out };
  },
  preview: ({ trainedModel }, params) => historyCurves(trainedModel.history.epochs, params.epochs),
  summary: ({ trainedModel: { history } }) => {
    const last = history.epochs[history.epochs.length - 1];
    const acc = last.valAccuracy ?? last.accuracy;
    return `${last.valAccuracy !== undefined ? 'val ' : ''}acc ${(acc * 100).toFixed(1)}% after ${last.epoch} epochs, ${Math.round(history.imagesPerSecond)} img/s`;
  },
});
