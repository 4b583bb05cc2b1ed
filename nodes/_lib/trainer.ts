/**
 * The training loop shared by the training node (and later GAN / style-transfer nodes):
 * optimisers, learning-rate schedules, class weights, label smoothing, L2, early stopping with
 * restore-best, two-phase transfer learning, live curves with ETA, per-epoch checkpoints that a
 * re-run resumes from, seeded reproducibility, NaN detection and a memory estimate up front.
 *
 * Randomness is derived per (seed, phase, epoch), never carried across epochs, so a run resumed
 * from the checkpoint of epoch k continues exactly as the uninterrupted run would have.
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FusedAdam } from '../../main/engine/backend/wasm-kernels/index.ts';
import { CancelledError, NodeError } from '../../main/engine/errors.ts';
import { DataParallelTrainer, leafLayers, suggestReplicas, trainableFlags } from '../../main/engine/parallel/index.ts';
import type { OptimizerSlot, OptimizerSpec } from '../../main/engine/parallel/index.ts';
import type { RunContext } from '../../main/engine/node-api.ts';
import { createRandom, hashString } from '../../main/engine/random.ts';
import type { CurvesPreview } from '../../main/protocol/index.ts';
import { predictIndices } from './classify.ts';
import type { Dataset, Normalization } from './dataset.ts';
import { IDENTITY_NORMALIZATION, batchIndices, batchTensors, classCounts, subsetIndices } from './dataset.ts';
import { cloneModel } from './model.ts';
import type { EpochRecord, TrainingHistory } from './ports.ts';

export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export const SCHEDULES = ['constant', 'step', 'exponential', 'cosine', 'plateau'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];
export const MONITORS = ['val_loss', 'val_accuracy', 'loss', 'accuracy'] as const;
export type MonitorName = (typeof MONITORS)[number];
export const CLASS_WEIGHTINGS = ['none', 'balanced', 'custom'] as const;
export const WORKER_CHOICES = ['auto', '1', '2', '4'] as const;
export type WorkerChoice = (typeof WORKER_CHOICES)[number];

/** Everything that decides how a model is trained. Plain data: it is hashed into the checkpoint. */
export interface TrainConfig {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  learningRate: number;
  /** SGD and RMSprop momentum (0 = none). */
  momentum: number;
  schedule: ScheduleName;
  /** Multiplier for step / exponential / plateau schedules. */
  decayRate: number;
  /** Step schedule: epochs between decays. */
  decayEpochs: number;
  /** Plateau schedule: epochs without improvement before the LR is cut. */
  plateauPatience: number;
  minLearningRate: number;
  classWeights: (typeof CLASS_WEIGHTINGS)[number];
  /** For `custom`: one weight per class, comma separated. */
  customClassWeights: string;
  labelSmoothing: number;
  /** L2 penalty on kernels (conv, dense, depthwise), added to the loss. */
  l2: number;
  /** Epochs without improvement of `monitor` before stopping; 0 turns early stopping off. */
  earlyStoppingPatience: number;
  monitor: MonitorName;
  restoreBest: boolean;
  /** Phase 2 of transfer learning: epochs with the last `fineTuneLayers` frozen layers unfrozen. 0 = no phase 2. */
  fineTuneEpochs: number;
  /** Frozen layers (with weights, batch norm excluded) to unfreeze in phase 2, counted from the end; 0 = all. */
  fineTuneLayers: number;
  /** Phase 2 learning rate as a fraction of `learningRate`. */
  fineTuneLearningRateFactor: number;
  /** Halve the batch size until the memory estimate fits, instead of failing. */
  autoBatchSize: boolean;
  /** Memory available for training in MiB; 0 = decide from the backend and the machine. */
  memoryLimitMb: number;
  seed: number;
  /**
   * Data-parallel replica threads: `auto` uses several on wasm / cpu when the machine has more
   * than one core and the model is big enough to gain; else one (the in-process loop).
   */
  workers?: WorkerChoice;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  epochs: 5,
  batchSize: 32,
  optimizer: 'adam',
  learningRate: 0.001,
  momentum: 0.9,
  schedule: 'constant',
  decayRate: 0.5,
  decayEpochs: 10,
  plateauPatience: 2,
  minLearningRate: 1e-6,
  classWeights: 'none',
  customClassWeights: '',
  labelSmoothing: 0,
  l2: 0,
  earlyStoppingPatience: 0,
  monitor: 'val_loss',
  restoreBest: true,
  fineTuneEpochs: 0,
  fineTuneLayers: 0,
  fineTuneLearningRateFactor: 0.1,
  autoBatchSize: true,
  memoryLimitMb: 0,
  seed: 1,
  workers: 'auto',
};

/** Per-epoch record with the learning rate and phase it ran with. */
export interface TrainEpochRecord extends EpochRecord {
  learningRate?: number;
  phase?: 1 | 2;
}

/** The parts of RunContext the trainer uses, so tests and other loops can pass a light one. */
export type TrainContext = Pick<RunContext, 'signal' | 'progress' | 'preview' | 'log' | 'throwIfCancelled'>;

/** The history the trainer returns: the port's TrainingHistory plus what it knows beyond it. */
export type TrainerHistory = Omit<TrainingHistory, 'epochs'> & {
  epochs: TrainEpochRecord[];
  stoppedEarly?: string;
  restoredEpoch?: number;
  resumedFrom?: number;
  /** Smoothed per-batch curves (x in fractional epochs), for the final preview. */
  batchCurve?: { x: number[]; loss: number[]; acc: number[] };
};

/** The final curves preview of a finished (or cached) training run. */
export function historyPreview(history: Pick<TrainerHistory, 'epochs' | 'batchCurve'>, totalEpochs: number): CurvesPreview {
  const r = new CurveRecorder(totalEpochs);
  if (history.batchCurve) {
    r.batchX.push(...history.batchCurve.x);
    r.batchLoss.push(...history.batchCurve.loss);
    r.batchAcc.push(...history.batchCurve.acc);
  }
  return r.preview(history.epochs);
}

export interface TrainResult {
  /** A trained copy; the caller owns it. */
  model: tf.LayersModel;
  history: TrainerHistory;
  normalization: Normalization;
}

export interface TrainOptions {
  /** Where per-epoch checkpoints live (the node's ctx.cacheDir). Without it, no checkpoints. */
  checkpointDir?: string;
  /** What the model expects its inputs normalised with; default the dataset's, else pixels / 255. */
  normalization?: Normalization;
  /** Name of the node for messages, e.g. `"train" (Train classifier)`. */
  title?: string;
  /** Called after each batch with that batch's loss (tests, benches). */
  onBatch?: (epoch: number, batch: number, loss: number) => void;
}

// ---------------------------------------------------------------------------------------------
// Learning rate

/**
 * Learning rate of a 0-based epoch within a phase of `epochs` epochs, for the time-based
 * schedules. The plateau schedule keeps its own state; this returns the base rate for it.
 */
export function scheduledLearningRate(c: Pick<TrainConfig, 'schedule' | 'decayRate' | 'decayEpochs' | 'minLearningRate'>, base: number, epoch: number, epochs: number): number {
  const floor = Math.min(c.minLearningRate, base);
  switch (c.schedule) {
    case 'constant':
    case 'plateau':
      return base;
    case 'step':
      return Math.max(floor, base * c.decayRate ** Math.floor(epoch / Math.max(1, c.decayEpochs)));
    case 'exponential':
      return Math.max(floor, base * c.decayRate ** epoch);
    case 'cosine':
      return floor + 0.5 * (base - floor) * (1 + Math.cos((Math.PI * epoch) / Math.max(1, epochs)));
    default: {
      const never: never = c.schedule;
      throw new Error(`unknown schedule ${String(never)}`);
    }
  }
}

/** Creates a TF.js optimiser (Adam on wasm: the engine's fused kernel, same maths, fewer kernel calls). */
export function createOptimizer(name: OptimizerName, learningRate: number, momentum: number): tf.Optimizer {
  switch (name) {
    case 'adam':
      return tf.getBackend() === 'wasm' ? new FusedAdam(learningRate) : tf.train.adam(learningRate);
    case 'sgd':
      return momentum > 0 ? tf.train.momentum(learningRate, momentum) : tf.train.sgd(learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(learningRate, 0.9, momentum);
    default: {
      const never: never = name;
      throw new Error(`unknown optimizer ${String(never)}`);
    }
  }
}

/** Changes an optimiser's learning rate in place (SGD keeps a cached scalar of it). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as tf.Optimizer & { learningRate: number; setLearningRate?: (lr: number) => void };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

/** Disposes an optimiser and its slots. tfjs's momentum optimiser forgets its learning-rate scalar. */
export function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  (optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
}

// ---------------------------------------------------------------------------------------------
// Memory

export interface MemoryEstimate {
  /** Bytes of weights, gradients and optimiser slots. */
  parameterBytes: number;
  /** Bytes of activations (and their gradients) per image. */
  activationBytesPerImage: number;
  /** Total for the given batch size. */
  totalBytes(batchSize: number): number;
}

const shapeSize = (shape: readonly (number | null)[]): number => shape.reduce<number>((n, d) => n * (d ?? 1), 1);

/** A rough upper estimate of training memory: activations ×3 (forward, gradient, scratch) plus params ×(2 + optimiser slots). */
export function estimateTrainingMemory(model: tf.LayersModel, optimizer: OptimizerName = 'adam'): MemoryEstimate {
  const slots = optimizer === 'adam' ? 2 : 1;
  let perImage = 0;
  for (const layer of leafLayers(model)) {
    const s = layer.outputShape;
    const shapes = (Array.isArray(s[0]) ? s : [s]) as (number | null)[][];
    for (const shape of shapes) perImage += shapeSize(shape.slice(1)) * 4;
  }
  for (const input of model.inputs) perImage += shapeSize(input.shape.slice(1)) * 4;
  const params = model.countParams();
  const parameterBytes = params * 4 * (2 + slots);
  const activationBytesPerImage = perImage * 3;
  return { parameterBytes, activationBytesPerImage, totalBytes: (b) => parameterBytes + activationBytesPerImage * b };
}

/** Memory the current backend can use for training, in bytes. */
export function memoryLimitBytes(limitMb: number): number {
  if (limitMb > 0) return limitMb * 2 ** 20;
  const half = totalmem() / 2;
  // The wasm backend's heap is a 32-bit address space.
  return tf.getBackend() === 'wasm' ? Math.min(half, 4 * 2 ** 30) : half;
}

export const formatBytes = (n: number): string =>
  n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;

export const formatSeconds = (s: number): string => {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s);
  return t >= 3600 ? `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m` : t >= 60 ? `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s` : `${t}s`;
};

// ---------------------------------------------------------------------------------------------
// Class weights

/** Per-class loss weights: balanced = n / (k · count[c]); custom = the given list. */
export function classWeightValues(c: Pick<TrainConfig, 'classWeights' | 'customClassWeights'>, counts: readonly number[]): number[] | undefined {
  const k = counts.length;
  switch (c.classWeights) {
    case 'none':
      return undefined;
    case 'balanced': {
      const n = counts.reduce((a, b) => a + b, 0);
      return counts.map((m) => (m > 0 ? n / (k * m) : 0));
    }
    case 'custom': {
      const parts = c.customClassWeights.split(/[,\s]+/).filter((s) => s !== '');
      const values = parts.map(Number);
      if (values.length !== k || values.some((v) => !Number.isFinite(v) || v < 0))
        throw new NodeError(`custom class weights must be ${k} non-negative numbers separated by commas, got "${c.customClassWeights}"`, {
          param: 'customClassWeights',
        });
      return values;
    }
    default: {
      const never: never = c.classWeights;
      throw new Error(`unknown class weighting ${String(never)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Curves

/** Train / validation loss and accuracy per epoch, plus smoothed per-batch curves. */
export class CurveRecorder {
  readonly batchX: number[] = [];
  readonly batchLoss: number[] = [];
  readonly batchAcc: number[] = [];
  private emaLoss: number | undefined;
  private emaAcc: number | undefined;
  private stride = 1;
  private counter = 0;

  constructor(
    private readonly totalEpochs: number,
    private readonly maxPoints = 400,
    private readonly smoothing = 0.9,
  ) {}

  /** Adds one batch (x = fractional epoch); keeps at most `maxPoints` points by thinning. */
  batch(x: number, loss: number, accuracy: number): void {
    this.emaLoss = this.emaLoss === undefined ? loss : this.smoothing * this.emaLoss + (1 - this.smoothing) * loss;
    this.emaAcc = this.emaAcc === undefined ? accuracy : this.smoothing * this.emaAcc + (1 - this.smoothing) * accuracy;
    if (this.counter++ % this.stride !== 0) return;
    this.batchX.push(x);
    this.batchLoss.push(this.emaLoss);
    this.batchAcc.push(this.emaAcc);
    if (this.batchX.length > this.maxPoints) {
      for (const a of [this.batchX, this.batchLoss, this.batchAcc]) {
        const kept = a.filter((_, i) => i % 2 === 0);
        a.length = 0;
        a.push(...kept);
      }
      this.stride *= 2;
    }
  }

  preview(epochs: readonly TrainEpochRecord[], note?: string): CurvesPreview {
    const x = epochs.map((e) => e.epoch);
    const series: CurvesPreview['series'] = [];
    if (this.batchX.length > 0)
      series.push(
        { name: 'train loss (per batch, smoothed)', group: 'loss', x: [...this.batchX], y: [...this.batchLoss] },
        { name: 'train accuracy (per batch, smoothed)', group: 'accuracy', x: [...this.batchX], y: [...this.batchAcc] },
      );
    series.push(
      { name: 'train loss', group: 'loss', x, y: epochs.map((e) => e.loss) },
      { name: 'train accuracy', group: 'accuracy', x, y: epochs.map((e) => e.accuracy) },
    );
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
    const head = last
      ? `epoch ${last.epoch}/${this.totalEpochs} · loss ${last.loss.toFixed(3)} · acc ${pct(last.accuracy)}` +
        (last.valAccuracy !== undefined ? ` · val acc ${pct(last.valAccuracy)}` : '')
      : 'training';
    return { kind: 'curves', title: note ? `${head} · ${note}` : head, xLabel: 'epoch', series, xMax: this.totalEpochs };
  }
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

interface CheckpointState {
  version: 1;
  /** Hash of config + model weight shapes: a checkpoint of something else is ignored. */
  signature: string;
  /** Global epochs completed. */
  epoch: number;
  batchSize: number;
  history: TrainEpochRecord[];
  lr: number;
  plateauBest: number | null;
  plateauWait: number;
  monitorBest: number | null;
  monitorBestEpoch: number;
  monitorWait: number;
  stoppedEarly?: string;
  seconds: number;
  seen: number;
  curve: { x: number[]; loss: number[]; acc: number[] };
  weightSpecs: tf.io.WeightsManifestEntry[];
  optimizerSpecs: tf.io.WeightsManifestEntry[];
  bestSpecs: tf.io.WeightsManifestEntry[] | null;
}

async function encodeTensors(tensors: tf.Tensor[]): Promise<{ data: Uint8Array; specs: tf.io.WeightsManifestEntry[] }> {
  const named = tensors.map((tensor, i) => ({ name: `t${i}`, tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  const buf = Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
  return { data: new Uint8Array(buf), specs };
}

async function decodeTensors(path: string, specs: tf.io.WeightsManifestEntry[]): Promise<tf.Tensor[]> {
  const buf = await readFile(path);
  const map = tf.io.decodeWeights(new Uint8Array(buf).buffer, specs);
  return specs.map((s) => map[s.name]);
}

/** Reads the last checkpoint in `dir`, or undefined when there is none (or it is for something else). */
async function readCheckpoint(dir: string, signature: string, log: TrainContext['log']): Promise<{ state: CheckpointState; path: string } | undefined> {
  let latest: string;
  try {
    latest = (await readFile(join(dir, 'latest'), 'utf8')).trim();
  } catch {
    return undefined;
  }
  try {
    const path = join(dir, latest);
    const state = JSON.parse(await readFile(join(path, 'state.json'), 'utf8')) as CheckpointState;
    if (state.version !== 1 || state.signature !== signature) {
      log('ignoring a checkpoint written for other settings', 'warn');
      return undefined;
    }
    return { state, path };
  } catch (error) {
    log(`ignoring an unreadable checkpoint: ${error instanceof Error ? error.message : String(error)}`, 'warn');
    return undefined;
  }
}

/** Writes epoch `state.epoch` into a new folder, then atomically points `latest` at it, then drops older folders. */
async function writeCheckpoint(
  dir: string,
  state: Omit<CheckpointState, 'weightSpecs' | 'optimizerSpecs' | 'bestSpecs'>,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  best: tf.Tensor[] | undefined,
): Promise<void> {
  const name = `epoch-${String(state.epoch).padStart(5, '0')}`;
  const path = join(dir, name);
  await rm(path, { recursive: true, force: true });
  await mkdir(path, { recursive: true });
  const weights = await encodeTensors(model.weights.map((w) => w.read()));
  const optWeights = await optimizer.getWeights();
  let opt: { data: Uint8Array; specs: tf.io.WeightsManifestEntry[] };
  try {
    opt = await encodeTensors(optWeights.map((w) => w.tensor));
  } finally {
    // `iter` is created by getWeights; the others are the optimiser's live variables.
    for (const w of optWeights) if (w.name === 'iter') w.tensor.dispose();
  }
  const bestEnc = best ? await encodeTensors(best) : undefined;
  await writeFile(join(path, 'weights.bin'), weights.data);
  await writeFile(join(path, 'optimizer.bin'), opt.data);
  if (bestEnc) await writeFile(join(path, 'best.bin'), bestEnc.data);
  const full: CheckpointState = { ...state, weightSpecs: weights.specs, optimizerSpecs: opt.specs, bestSpecs: bestEnc?.specs ?? null };
  await writeFile(join(path, 'state.json'), JSON.stringify(full));
  await writeFile(join(dir, 'latest.tmp'), name);
  await rename(join(dir, 'latest.tmp'), join(dir, 'latest'));
  for (const entry of await readdir(dir)) if (entry.startsWith('epoch-') && entry !== name) await rm(join(dir, entry), { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Freezing

const isBatchNorm = (l: tf.layers.Layer): boolean => l.getClassName() === 'BatchNormalization';


/**
 * Unfreezes the last `n` frozen layers that have weights (all when n = 0). Batch-norm layers stay
 * frozen (and in inference mode): fine-tuning their statistics on small batches hurts.
 * Returns the names unfrozen.
 */
export function unfreezeLast(model: tf.LayersModel, n: number): string[] {
  const frozen = leafLayers(model).filter((l) => !l.trainable && l.weights.length > 0 && !isBatchNorm(l));
  const picked = n > 0 ? frozen.slice(-n) : frozen;
  for (const l of picked) l.trainable = true;
  return picked.map((l) => l.name);
}

/** Makes frozen batch-norm layers use their moving statistics even in training mode; returns an undo. */
function frozenBatchNormInInferenceMode(model: tf.LayersModel): () => void {
  const patched: tf.layers.Layer[] = [];
  for (const layer of leafLayers(model)) {
    if (!isBatchNorm(layer)) continue;
    const own = layer as unknown as { call: (inputs: unknown, kwargs: Record<string, unknown>) => unknown };
    const original = own.call;
    own.call = (inputs, kwargs) => original.call(layer, inputs, layer.trainable ? kwargs : { ...kwargs, training: false });
    patched.push(layer);
  }
  return () => {
    for (const layer of patched) delete (layer as unknown as { call?: unknown }).call;
  };
}

// ---------------------------------------------------------------------------------------------
// Data-parallel workers

/**
 * How many replica threads to train with, and why. `auto`: several only on wasm / cpu (the
 * native TensorFlow backend is multi-threaded already) with more than one core, a model with a
 * single fixed-shape input and enough parameters (`suggestReplicas`), at least 8 images per
 * replica in a batch, and at least `MIN_PARALLEL_STEPS` steps to run (starting the replicas
 * takes a second or two); else 1. An explicit count is honoured on wasm / cpu only.
 */
export function chooseWorkers(
  setting: WorkerChoice,
  model: tf.LayersModel,
  batchSize: number,
  backend = tf.getBackend(),
  cores = availableParallelism(),
  steps = Infinity,
): { workers: number; reason: string } {
  const parallelBackend = backend === 'wasm' || backend === 'cpu';
  if (setting !== 'auto') {
    const n = Number(setting);
    if (n > 1 && !parallelBackend) return { workers: 1, reason: `the ${backend} backend trains in one process (it is multi-threaded itself)` };
    return { workers: n, reason: `workers = ${setting}` };
  }
  if (!parallelBackend) return { workers: 1, reason: `auto: the ${backend} backend is multi-threaded itself` };
  if (cores < 2) return { workers: 1, reason: 'auto: one CPU core' };
  if (model.inputs.length !== 1 || model.inputs[0].shape.slice(1).some((d) => d == null))
    return { workers: 1, reason: 'auto: the model has no single fixed-shape input' };
  const suggested = suggestReplicas(model, cores);
  if (suggested < 2) return { workers: 1, reason: 'auto: the model is too small to gain from workers' };
  const n = Math.min(suggested, Math.floor(batchSize / 8));
  if (n < 2) return { workers: 1, reason: `auto: batch size ${batchSize} is too small to split` };
  if (steps < MIN_PARALLEL_STEPS) return { workers: 1, reason: `auto: ${steps} steps are too few to pay for starting workers` };
  return { workers: n, reason: `auto: ${cores} cores, ${model.countParams()} parameters` };
}

/** `auto` starts workers only for runs of at least this many training steps. */
export const MIN_PARALLEL_STEPS = 100;

/** The worker-side description of the optimiser `createOptimizer` makes. */
function optimizerSpec(name: OptimizerName, learningRate: number, momentum: number): OptimizerSpec {
  return { kind: name, learningRate, momentum };
}

/** An optimiser's slots as plain arrays (for the replicas). */
async function optimizerSlots(optimizer: tf.Optimizer): Promise<OptimizerSlot[]> {
  const weights = await optimizer.getWeights();
  try {
    return weights.map((w) => ({ name: w.name, shape: [...w.tensor.shape], data: Float32Array.from(w.tensor.dataSync()) }));
  } finally {
    for (const w of weights) if (w.name === 'iter') w.tensor.dispose();
  }
}

/** Loads the replicas' slots into the main thread's optimiser (so checkpoints hold them), named after `model`'s variables. */
async function loadOptimizerSlots(optimizer: tf.Optimizer, model: tf.LayersModel, slots: OptimizerSlot[]): Promise<void> {
  if (slots.length === 0) return;
  const vars = model.trainableWeights.map((w) => (w.read() as tf.Variable).name);
  const name = (i: number): string =>
    i === 0 ? 'iter' : optimizer instanceof FusedAdam ? `${vars[Math.floor((i - 1) / 2)]}/${(i - 1) % 2 === 0 ? 'm' : 'v'}` : `s${i}`;
  const named = slots.map((s, i) => ({ name: name(i), tensor: tf.tensor(s.data, s.shape, i === 0 ? 'int32' : 'float32') }));
  try {
    await optimizer.setWeights(named);
  } finally {
    tf.dispose(named.map((n) => n.tensor));
  }
}

/** Modules that register custom layer classes a replica may need to rebuild the model. */
const REPLICA_MODULES = [new URL('./resize-layer.ts', import.meta.url).href, new URL('./graph-features-layer.ts', import.meta.url).href];

// ---------------------------------------------------------------------------------------------
// The loop

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Trains a copy of `source` on the dataset's train subset (validating on its validation subset
 * when present) and returns the trained copy with its history. `source` is never changed.
 * Throws NodeError naming the param or port for user-fixable problems; CancelledError on cancel
 * (the last finished epoch stays checkpointed, so running again resumes from it).
 */
export async function trainClassifierModel(
  source: tf.LayersModel,
  dataset: Dataset,
  config: TrainConfig,
  ctx: TrainContext,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const c = config;
  const train = subsetIndices(dataset, 'train');
  const validation = dataset.subsets.validation?.length ? dataset.subsets.validation : undefined;
  const normalization = options.normalization ?? dataset.normalization ?? IDENTITY_NORMALIZATION(dataset.imageShape[2]);
  const numClasses = dataset.classes.length;
  const weights = classWeightValues(c, classCounts(dataset, train));
  let monitor: MonitorName = c.monitor;
  if (monitor.startsWith('val_') && !validation && (c.earlyStoppingPatience > 0 || c.schedule === 'plateau')) {
    monitor = monitor === 'val_loss' ? 'loss' : 'accuracy';
    ctx.log(`no validation subset: early stopping and the plateau schedule watch "${monitor}" instead of "${c.monitor}"`, 'warn');
  }
  const higherIsBetter = monitor.endsWith('accuracy');
  const totalEpochs = c.epochs + c.fineTuneEpochs;

  const model = await cloneModel(source);
  const restoreBn = frozenBatchNormInInferenceMode(model);
  const classWeightT = weights ? tf.tensor1d(weights) : undefined;
  let optimizer: tf.Optimizer | undefined;
  let dp: DataParallelTrainer | undefined;
  let best: tf.Tensor[] | undefined;
  const dropouts = leafLayers(model).filter((l) => l.getClassName() === 'Dropout') as (tf.layers.Layer & { seed?: number })[];

  const disposeBest = (): void => {
    best?.forEach((t) => t.dispose());
    best = undefined;
  };

  try {
    // Memory: estimate before anything runs; shrink the batch when allowed.
    const estimate = estimateTrainingMemory(model, c.optimizer);
    const limit = memoryLimitBytes(c.memoryLimitMb);
    let batchSize = Math.min(c.batchSize, train.length);
    if (estimate.totalBytes(batchSize) > limit) {
      const need = formatBytes(estimate.totalBytes(batchSize));
      if (!c.autoBatchSize)
        throw new NodeError(
          `training would need about ${need} at batch size ${batchSize} but only ${formatBytes(limit)} is available; lower the batch size or turn on automatic batch size`,
          { param: 'batchSize' },
        );
      while (batchSize > 1 && estimate.totalBytes(batchSize) > limit) batchSize = Math.floor(batchSize / 2);
      if (estimate.totalBytes(batchSize) > limit)
        throw new NodeError(`the model alone needs about ${formatBytes(estimate.totalBytes(1))}, more than the ${formatBytes(limit)} available`, {
          port: 'model',
        });
      ctx.log(`batch size lowered from ${c.batchSize} to ${batchSize}: about ${need} needed, ${formatBytes(limit)} available`, 'warn');
    }
    ctx.log(
      `memory estimate: ${formatBytes(estimate.totalBytes(batchSize))} at batch size ${batchSize} ` +
        `(${formatBytes(estimate.parameterBytes)} weights and optimiser state, ${formatBytes(estimate.activationBytesPerImage)} activations per image)`,
    );

    const signature = hashString(
      JSON.stringify({ c: { ...c, batchSize: undefined, autoBatchSize: undefined, memoryLimitMb: undefined, workers: undefined }, w: model.weights.map((w) => w.shape), t: model.weights.map((w) => w.trainable) }),
    ).toString(16);

    // Mutable state (all of it checkpointed).
    let history: TrainEpochRecord[] = [];
    let lr = c.learningRate;
    let plateauBest: number | null = null;
    let plateauWait = 0;
    let monitorBest: number | null = null;
    let monitorBestEpoch = 0;
    let monitorWait = 0;
    let stoppedEarly: string | undefined;
    let seconds = 0;
    let seen = 0;
    let startEpoch = 0;
    let resumedFrom: number | undefined;
    const curves = new CurveRecorder(totalEpochs);

    const phaseOf = (epoch: number): 1 | 2 => (epoch <= c.epochs ? 1 : 2);
    const enterPhase2 = (): void => {
      const names = unfreezeLast(model, c.fineTuneLayers);
      ctx.log(
        names.length > 0
          ? `fine-tuning: unfroze ${names.length} layer${names.length === 1 ? '' : 's'} (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}), learning rate ×${c.fineTuneLearningRateFactor}`
          : 'fine-tuning: no frozen layers to unfreeze; continuing with the lower learning rate',
      );
    };
    const newOptimizer = (rate: number): tf.Optimizer => {
      if (optimizer) disposeOptimizer(optimizer);
      optimizer = createOptimizer(c.optimizer, rate, c.momentum);
      return optimizer;
    };

    // Resume.
    const saved = options.checkpointDir ? await readCheckpoint(options.checkpointDir, signature, ctx.log) : undefined;
    if (saved) {
      const s = saved.state;
      // Phase 2 already under way: unfreeze as it did. (At the boundary the loop below does it.)
      if (s.epoch > c.epochs) enterPhase2();
      const w = await decodeTensors(join(saved.path, 'weights.bin'), s.weightSpecs);
      model.setWeights(w);
      w.forEach((t) => t.dispose());
      newOptimizer(s.lr);
      const o = await decodeTensors(join(saved.path, 'optimizer.bin'), s.optimizerSpecs);
      // Optimisers create their slots lazily; an empty list (no step yet) is fine.
      // tfjs optimisers match slots by position; FusedAdam by variable name, and names differ
      // between processes, so its slots are renamed after this model's variables (same order).
      const vars = model.trainableWeights.map((w) => (w.read() as tf.Variable).name);
      const slotName = (i: number): string =>
        i === 0 ? 'iter' : optimizer instanceof FusedAdam ? `${vars[Math.floor((i - 1) / 2)]}/${(i - 1) % 2 === 0 ? 'm' : 'v'}` : `s${i}`;
      if (o.length > 0) await optimizer!.setWeights(o.map((tensor, i) => ({ name: slotName(i), tensor })));
      o.forEach((t) => t.dispose());
      if (s.bestSpecs) best = (await decodeTensors(join(saved.path, 'best.bin'), s.bestSpecs)).map((t) => tf.keep(t));
      history = s.history;
      lr = s.lr;
      plateauBest = s.plateauBest;
      plateauWait = s.plateauWait;
      monitorBest = s.monitorBest;
      monitorBestEpoch = s.monitorBestEpoch;
      monitorWait = s.monitorWait;
      stoppedEarly = s.stoppedEarly;
      seconds = s.seconds;
      seen = s.seen;
      batchSize = s.batchSize;
      curves.batchX.push(...s.curve.x);
      curves.batchLoss.push(...s.curve.loss);
      curves.batchAcc.push(...s.curve.acc);
      startEpoch = s.epoch;
      resumedFrom = s.epoch;
      ctx.log(`resuming from epoch ${s.epoch} of ${totalEpochs} (checkpoint in the cache)`);
      ctx.preview(curves.preview(history, `resumed from epoch ${s.epoch}`));
    } else {
      newOptimizer(lr);
    }

    // Data-parallel replicas start from the (possibly resumed) weights and optimiser state.
    const steps = (totalEpochs - startEpoch) * Math.ceil(train.length / batchSize);
    const choice = chooseWorkers(c.workers ?? 'auto', model, batchSize, tf.getBackend(), availableParallelism(), steps);
    if (choice.workers > 1) {
      try {
        dp = await DataParallelTrainer.create({
          model,
          replicas: choice.workers,
          backend: tf.getBackend() as 'wasm' | 'cpu',
          optimizer: optimizerSpec(c.optimizer, lr, c.momentum),
          loss: { kind: 'classifier', numClasses, labelSmoothing: c.labelSmoothing, classWeights: weights, l2: c.l2 },
          maxBatch: batchSize,
          signal: ctx.signal,
          modules: REPLICA_MODULES,
        });
        if (saved) await dp.setOptimizerState(await optimizerSlots(optimizer!));
        ctx.log(`training data-parallel on ${choice.workers} worker threads (${choice.reason}, ${tf.getBackend()} backend)`);
      } catch (error) {
        await dp?.dispose();
        dp = undefined;
        ctx.throwIfCancelled();
        if (c.workers !== 'auto' && c.workers !== undefined) throw error;
        ctx.log(`data-parallel workers unavailable (${error instanceof Error ? error.message : String(error)}); training on one thread`, 'warn');
      }
    } else {
      ctx.log(`training on one thread (${choice.reason})`);
    }

    const kernels = (): tf.Variable[] =>
      model.trainableWeights.filter((w) => /kernel/.test(w.originalName ?? w.name)).map((w) => w.read() as tf.Variable);
    const trainBatchesPerEpoch = Math.ceil(train.length / batchSize);
    const valBatches = validation ? Math.ceil(validation.length / Math.max(batchSize, 128)) : 0;
    // Validation batches cost roughly a third of a training batch (forward only, larger).
    const epochUnits = trainBatchesPerEpoch + valBatches / 3;
    const totalUnits = totalEpochs * epochUnits;
    const runStarted = performance.now();
    let unitsThisRun = 0;
    const eta = (unitsDone: number): number => {
      const elapsed = (performance.now() - runStarted) / 1000;
      return unitsThisRun > 0 ? (elapsed / unitsThisRun) * (totalUnits - unitsDone) : NaN;
    };

    for (let epoch = startEpoch + 1; epoch <= totalEpochs && !stoppedEarly; epoch++) {
      const phase = phaseOf(epoch);
      const phaseStart = phase === 1 ? 0 : c.epochs;
      const phaseEpochs = phase === 1 ? c.epochs : c.fineTuneEpochs;
      const phaseBase = phase === 1 ? c.learningRate : c.learningRate * c.fineTuneLearningRateFactor;
      if (phase === 2 && epoch === c.epochs + 1) {
        enterPhase2();
        newOptimizer(phaseBase);
        if (dp) await dp.configure({ trainable: trainableFlags(model), optimizer: optimizerSpec(c.optimizer, phaseBase, c.momentum) });
        lr = phaseBase;
        plateauBest = null;
        plateauWait = 0;
      }
      if (c.schedule !== 'plateau') lr = scheduledLearningRate(c, phaseBase, epoch - 1 - phaseStart, phaseEpochs);
      setLearningRate(optimizer!, lr);

      const random = createRandom(hashString(`${c.seed}/${epoch}`));
      const shuffleRandom = random.fork();
      const dropoutRandom = random.fork();
      const augmentRandom = random.fork();
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      if (variables.length === 0) throw new NodeError('the model has no trainable weights (every layer is frozen)', { port: 'model' });
      const l2Vars = c.l2 > 0 ? kernels() : [];

      const epochStart = performance.now();
      let lossSum = 0;
      let correct = 0;
      let count = 0;
      const batches = batchIndices(train, batchSize, shuffleRandom);
      /** The bookkeeping after a batch's update, the same for one thread and for workers. */
      const recordBatch = async (b: number, images: number, l: number, h: number): Promise<void> => {
        if (!Number.isFinite(l))
          throw new NodeError(
            `loss became ${l} at epoch ${epoch}, batch ${b + 1}; try a lower learning rate (now ${lr.toPrecision(3)})`,
            { param: 'learningRate' },
          );
        lossSum += l * images;
        correct += h;
        count += images;
        options.onBatch?.(epoch, b + 1, l);
        curves.batch(epoch - 1 + (b + 1) / batches.length, l, h / images);
      };
      /** Workers: batch `b` as plain arrays, with its dropout seeds (drawn in batch order, as one thread does). */
      const batchArrays = (b: number): { xs: Float32Array; ys: Float32Array; seeds: number[] } => {
        for (const layer of dropouts) layer.seed = dropoutRandom.seed();
        const { x, y } = batchTensors(dataset, batches[b], { normalization, augmentWith: augmentRandom });
        try {
          return { xs: Float32Array.from(x.dataSync()), ys: Float32Array.from(y.dataSync()), seeds: dropouts.map((l) => l.seed ?? 0) };
        } finally {
          x.dispose();
          y.dispose();
        }
      };
      let ahead: ReturnType<typeof batchArrays> | undefined;
      for (let b = 0; b < batches.length; b++) {
        ctx.throwIfCancelled();
        const idx = batches[b];
        if (dp) {
          // The replicas compute the same loss on their shares of the batch and apply the same
          // update; meanwhile this thread prepares the next batch.
          const current = ahead ?? batchArrays(b);
          const pending = dp.step(current.xs, current.ys, idx.length, { learningRate: lr, dropoutSeeds: current.seeds });
          try {
            ahead = b + 1 < batches.length ? batchArrays(b + 1) : undefined;
          } catch (error) {
            await pending.catch(() => undefined);
            throw error;
          }
          const r = await pending;
          await recordBatch(b, idx.length, r.loss, r.correct);
        } else {
          for (const layer of dropouts) layer.seed = dropoutRandom.seed();
          const { x, y } = batchTensors(dataset, idx, { normalization, augmentWith: augmentRandom });
          let hits: tf.Scalar | undefined;
          let lossT: tf.Scalar | null = null;
          try {
            lossT = optimizer!.minimize(
              () => {
                const probs = model.apply(x, { training: true }) as tf.Tensor2D;
                if (probs.shape[1] !== numClasses)
                  throw new NodeError(`the model outputs ${probs.shape[1]} classes but the dataset has ${numClasses}`, { port: 'model' });
                hits = tf.keep(probs.argMax(-1).equal(y).sum()) as tf.Scalar;
                let target = tf.oneHot(y, numClasses).toFloat();
                if (c.labelSmoothing > 0) target = target.mul(1 - c.labelSmoothing).add(c.labelSmoothing / numClasses);
                // add(eps), not clipByValue: clipping turns NaN into a finite number on some backends and would hide a diverged model.
                let perImage = target.mul(probs.add(1e-7).log()).sum(-1).neg();
                if (classWeightT) perImage = perImage.mul(classWeightT.gather(y));
                let loss = perImage.mean() as tf.Scalar;
                if (l2Vars.length > 0) loss = loss.add(tf.addN(l2Vars.map((v) => v.square().sum())).mul(c.l2));
                return loss;
              },
              true,
              variables,
            );
            const [l, h] = await Promise.all([lossT!.data(), hits!.data()]);
            await recordBatch(b, idx.length, l[0], h[0]);
          } finally {
            x.dispose();
            y.dispose();
            lossT?.dispose();
            (hits as tf.Scalar | undefined)?.dispose();
          }
        }
        seen += idx.length;
        unitsThisRun++;
        const unitsDone = (epoch - 1) * epochUnits + b + 1;
        const note = `epoch ${epoch}/${totalEpochs} · batch ${b + 1}/${batches.length} · loss ${(lossSum / count).toFixed(3)} · ETA ${formatSeconds(eta(unitsDone))}`;
        ctx.progress(unitsDone / totalUnits, note);
        ctx.preview(curves.preview(history, `ETA ${formatSeconds(eta(unitsDone))}`));
        await yieldToEventLoop();
      }
      // Validation, early stopping and checkpoints see the replicas' weights.
      if (dp) await dp.syncTo(model);
      const record: TrainEpochRecord = { epoch, loss: lossSum / count, accuracy: correct / count, seconds: 0, learningRate: lr, phase };
      if (validation) {
        const v = await predictIndices(model, dataset, validation, normalization, {
          batchSize: Math.max(batchSize, 128),
          between: async () => {
            ctx.throwIfCancelled();
            unitsThisRun += 1 / 3;
            await yieldToEventLoop();
          },
        });
        record.valLoss = v.loss;
        record.valAccuracy = v.accuracy;
      }
      record.seconds = (performance.now() - epochStart) / 1000;
      seconds += record.seconds;
      history.push(record);

      // Early stopping and plateau bookkeeping.
      const value = monitorValue(record, monitor);
      const improved = (prev: number | null): boolean => prev === null || (higherIsBetter ? value > prev + 1e-7 : value < prev - 1e-7);
      if (c.earlyStoppingPatience > 0) {
        if (improved(monitorBest)) {
          monitorBest = value;
          monitorBestEpoch = epoch;
          monitorWait = 0;
          if (c.restoreBest) {
            disposeBest();
            best = model.weights.map((w) => tf.keep(w.read().clone()));
          }
        } else if (++monitorWait >= c.earlyStoppingPatience) {
          stoppedEarly = `${monitor} did not improve for ${monitorWait} epochs (best ${monitorBest!.toFixed(4)} at epoch ${monitorBestEpoch})`;
        }
      }
      if (c.schedule === 'plateau') {
        if (improved(plateauBest)) {
          plateauBest = value;
          plateauWait = 0;
        } else if (++plateauWait >= c.plateauPatience) {
          const next = Math.max(Math.min(c.minLearningRate, lr), lr * c.decayRate);
          if (next < lr) ctx.log(`${monitor} plateaued for ${plateauWait} epochs: learning rate ${lr.toPrecision(3)} → ${next.toPrecision(3)}`);
          lr = next;
          plateauWait = 0;
        }
      }

      ctx.log(
        `epoch ${epoch}/${totalEpochs}${c.fineTuneEpochs > 0 ? ` (phase ${phase})` : ''}: loss ${record.loss.toFixed(4)} acc ${record.accuracy.toFixed(4)}` +
          (record.valLoss !== undefined ? ` val_loss ${record.valLoss.toFixed(4)} val_acc ${record.valAccuracy!.toFixed(4)}` : '') +
          ` lr ${lr.toPrecision(3)} (${record.seconds.toFixed(1)} s)`,
      );
      ctx.preview(curves.preview(history));
      // The checkpoint takes the optimiser state from the main thread's optimiser: give it the replicas'.
      if (dp && options.checkpointDir) await loadOptimizerSlots(optimizer!, model, await dp.getOptimizerState());
      if (options.checkpointDir)
        await writeCheckpoint(
          options.checkpointDir,
          {
            version: 1,
            signature,
            epoch,
            batchSize,
            history,
            lr,
            plateauBest,
            plateauWait,
            monitorBest,
            monitorBestEpoch,
            monitorWait,
            stoppedEarly,
            seconds,
            seen,
            curve: { x: curves.batchX, loss: curves.batchLoss, acc: curves.batchAcc },
          },
          model,
          optimizer!,
          best,
        );
      if (stoppedEarly) ctx.log(`early stopping at epoch ${epoch}: ${stoppedEarly}`);
    }

    let restoredEpoch: number | undefined;
    if (best && c.restoreBest && monitorBestEpoch > 0 && monitorBestEpoch !== history[history.length - 1]?.epoch) {
      model.setWeights(best);
      restoredEpoch = monitorBestEpoch;
      ctx.log(`restored the weights of epoch ${monitorBestEpoch} (best ${monitor})`);
    }
    // The trained model goes to the disk cache; a finished run has nothing left to resume.
    if (options.checkpointDir) await rm(options.checkpointDir, { recursive: true, force: true });
    ctx.progress(1, stoppedEarly ? `stopped early at epoch ${history.length}` : `${history.length} epochs`);
    return {
      model,
      normalization,
      history: {
        optimizer: c.optimizer,
        learningRate: c.learningRate,
        batchSize,
        epochs: history,
        imagesPerSecond: seen / Math.max(seconds, 1e-9),
        seconds,
        ...(stoppedEarly ? { stoppedEarly } : {}),
        ...(restoredEpoch ? { restoredEpoch } : {}),
        ...(resumedFrom !== undefined ? { resumedFrom } : {}),
        batchCurve: { x: curves.batchX, loss: curves.batchLoss, acc: curves.batchAcc },
      },
    };
  } catch (error) {
    model.dispose();
    // Cancelling tears the replicas down, which fails their pending step: report the cancel.
    if (dp && ctx.signal.aborted && !(error instanceof CancelledError)) throw new CancelledError();
    throw error;
  } finally {
    await dp?.dispose();
    restoreBn();
    if (optimizer) disposeOptimizer(optimizer);
    classWeightT?.dispose();
    disposeBest();
  }
}

function monitorValue(r: TrainEpochRecord, m: MonitorName): number {
  switch (m) {
    case 'loss':
      return r.loss;
    case 'accuracy':
      return r.accuracy;
    case 'val_loss':
      return r.valLoss ?? r.loss;
    case 'val_accuracy':
      return r.valAccuracy ?? r.accuracy;
    default: {
      const never: never = m;
      throw new Error(`unknown monitor ${String(never)}`);
    }
  }
}
