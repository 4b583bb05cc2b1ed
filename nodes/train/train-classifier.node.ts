import { join } from 'node:path';
import { defineNode } from '../../main/engine/node-api.ts';
import { NodeError } from '../../main/engine/errors.ts';
import type { CurvesPreview } from '../../main/protocol/index.ts';
import { checkModelFitsDataset } from '../_lib/classify.ts';
import type { TrainedModel, TrainingHistory } from '../_lib/ports.ts';
import { CLASS_WEIGHTINGS, DEFAULT_TRAIN_CONFIG, MONITORS, OPTIMIZERS, SCHEDULES, WORKER_CHOICES, historyPreview, trainClassifierModel } from '../_lib/trainer.ts';
import type { TrainConfig, TrainerHistory } from '../_lib/trainer.ts';

/** Loss/accuracy curves per epoch, train and (when present) validation, plus smoothed per-batch curves when known. */
export function historyCurves(history: TrainingHistory & Pick<TrainerHistory, 'batchCurve'>, totalEpochs: number): CurvesPreview {
  return historyPreview(history, totalEpochs);
}


const D = DEFAULT_TRAIN_CONFIG;

export const trainClassifier = defineNode({
  id: 'dlflow:train:train-classifier',
  name: 'Train classifier',
  category: 'train',
  description: [
    'Trains a copy of the connected model on the dataset\'s **train** subset with softmax',
    'cross-entropy, validating on the **validation** subset when there is one. The input model is',
    'left untouched; the dataset\'s augmentation steps are applied to each training batch.',
    '',
    '- **Optimiser**: Adam, SGD (with momentum) or RMSprop; **schedule**: constant, step (×decay',
    '  every N epochs), exponential (×decay per epoch), cosine (to the minimum rate), or',
    '  reduce-on-plateau (×decay after *plateau patience* epochs without improvement).',
    '- **Class weights** (balanced, or a custom list), **label smoothing** and **L2** on kernels.',
    '- **Early stopping** when *monitor* stops improving for *patience* epochs (0 = off), optionally',
    '  restoring the best epoch\'s weights.',
    '- **Two-phase transfer learning**: with *fine-tune epochs* > 0, after the first *epochs* (frozen',
    '  backbone, head only) the last *fine-tune layers* frozen layers are unfrozen and training',
    '  continues at *learning rate × fine-tune factor*.',
    '',
    'Curves stream live (per epoch, and smoothed per batch, with ETA). Each epoch is checkpointed in',
    'the cache: after a cancel or a crash, running again resumes from the last finished epoch. The',
    'memory needed is estimated first; *auto batch size* halves the batch until it fits. Seeded:',
    'the same seed gives the same model on the same backend. The trained model is cached on disk.',
    '',
    'On the wasm and cpu backends, *worker threads* split each batch across CPU cores (data',
    'parallel): the result equals one-thread training up to float rounding, except that dropout',
    'masks differ (each thread draws its own).',
  ].join('\n'),
  inputs: {
    model: { type: 'model', label: 'Model' },
    dataset: { type: 'dataset', label: 'Dataset', description: 'Needs a train subset (add a Split node).' },
  },
  params: {
    epochs: { kind: 'integer', default: 5, min: 1, max: 10_000, label: 'Epochs', inline: true },
    batchSize: { kind: 'integer', default: 32, min: 1, max: 8192, label: 'Batch size' },
    learningRate: { kind: 'number', default: 0.001, min: 1e-7, max: 10, step: 0.0001, label: 'Learning rate', inline: true },
    optimizer: { kind: 'enum', default: D.optimizer, options: OPTIMIZERS, label: 'Optimiser' },
    momentum: { kind: 'number', default: D.momentum, min: 0, max: 0.999, step: 0.01, label: 'Momentum', description: 'SGD and RMSprop; 0 for plain SGD.' },
    schedule: { kind: 'enum', default: D.schedule, options: SCHEDULES, label: 'LR schedule' },
    decayRate: { kind: 'number', default: D.decayRate, min: 0.001, max: 1, step: 0.05, label: 'LR decay factor', description: 'Step, exponential and plateau schedules.' },
    decayEpochs: { kind: 'integer', default: D.decayEpochs, min: 1, max: 10_000, label: 'Step every (epochs)' },
    plateauPatience: { kind: 'integer', default: D.plateauPatience, min: 1, max: 1000, label: 'Plateau patience (epochs)' },
    minLearningRate: { kind: 'number', default: D.minLearningRate, min: 0, max: 1, step: 1e-6, label: 'Minimum LR' },
    classWeights: { kind: 'enum', default: D.classWeights, options: CLASS_WEIGHTINGS, label: 'Class weights' },
    customClassWeights: { kind: 'string', default: '', label: 'Custom class weights', description: 'One number per class, comma separated, for class weights *custom*.' },
    labelSmoothing: { kind: 'number', default: 0, min: 0, max: 0.5, step: 0.05, label: 'Label smoothing' },
    l2: { kind: 'number', default: 0, min: 0, max: 1, step: 0.0001, label: 'L2 (weight decay)' },
    earlyStoppingPatience: { kind: 'integer', default: 0, min: 0, max: 1000, label: 'Early stopping patience', description: '0 turns early stopping off.' },
    monitor: { kind: 'enum', default: D.monitor, options: MONITORS, label: 'Monitor' },
    restoreBest: { kind: 'boolean', default: true, label: 'Restore best weights' },
    fineTuneEpochs: { kind: 'integer', default: 0, min: 0, max: 10_000, label: 'Fine-tune epochs', description: 'Phase 2 of transfer learning; 0 = one phase.' },
    fineTuneLayers: { kind: 'integer', default: 0, min: 0, max: 1000, label: 'Fine-tune layers', description: 'Frozen layers to unfreeze in phase 2, from the end; 0 = all.' },
    fineTuneLearningRateFactor: { kind: 'number', default: 0.1, min: 0.0001, max: 1, step: 0.01, label: 'Fine-tune LR factor' },
    autoBatchSize: { kind: 'boolean', default: true, label: 'Auto batch size', description: 'Halve the batch size when the memory estimate does not fit.' },
    memoryLimitMb: { kind: 'integer', default: 0, min: 0, max: 1_048_576, label: 'Memory limit (MiB)', description: '0 = half the machine\'s memory (at most 4 GiB on wasm).' },
    seed: { kind: 'seed', default: 1, label: 'Seed', description: 'Shuffling, dropout masks and augmentation.' },
    workers: {
      kind: 'enum',
      default: 'auto',
      options: WORKER_CHOICES,
      label: 'Worker threads',
      description:
        'Data-parallel training: each thread trains on its share of every batch and all apply the same averaged update. ' +
        '*auto* uses one per core (up to 4) on the wasm and cpu backends when the model is big enough to gain.',
    },
  },
  outputs: { trainedModel: { type: 'trainedModel', label: 'Trained model' } },
  previews: ['curves'],
  persist: true,
  async run({ model, dataset }, params, ctx) {
    // Defaults for params a caller left out (tests and programmatic use call run directly).
    const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...params };
    checkModelFitsDataset(model, dataset, 'dataset');
    if (!dataset.subsets.train?.length)
      throw new NodeError('the dataset has no train subset; connect it through a Split node', { port: 'dataset' });
    const r = await trainClassifierModel(model.model, dataset, config, ctx, {
      checkpointDir: join(ctx.cacheDir, 'checkpoints'),
      normalization: model.inputNormalization,
    });
    const out: TrainedModel = {
      model: r.model,
      inputShape: model.inputShape,
      classes: [...dataset.classes],
      normalization: r.normalization,
      architecture: model.architecture,
      history: r.history,
    };
    return { trainedModel: out };
  },
  preview: ({ trainedModel }, params) => historyCurves(trainedModel.history, (params.epochs ?? 0) + (params.fineTuneEpochs ?? 0)),
  summary: ({ trainedModel: { history } }) => {
    const h = history as TrainerHistory;
    const last = h.epochs[h.epochs.length - 1];
    // With restore-best the model is that epoch's, so report its numbers.
    const kept = (h.restoredEpoch !== undefined ? h.epochs.find((e) => e.epoch === h.restoredEpoch) : undefined) ?? last;
    const acc = kept.valAccuracy ?? kept.accuracy;
    const best = kept === last ? '' : ` (best epoch ${kept.epoch})`;
    return `${kept.valAccuracy !== undefined ? 'val ' : ''}acc ${(acc * 100).toFixed(1)}% after ${last.epoch} epochs${best}, ${Math.round(h.imagesPerSecond)} img/s`;
  },
});
