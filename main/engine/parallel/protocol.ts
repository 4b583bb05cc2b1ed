/** Messages between a DataParallelTrainer and its replica workers (structured-clone safe). */

export type LossName = 'softmaxCrossEntropy' | 'sigmoidCrossEntropy' | 'meanSquaredError';

/**
 * A classifier's loss on softmax probabilities with integer labels (one float per example, the
 * class index): mean over the batch of −Σ target·log(p + 1e-7), with label smoothing, per-example
 * class weights and an L2 penalty on kernels added — the loss the training node uses.
 */
export interface ClassifierLossSpec {
  kind: 'classifier';
  numClasses: number;
  /** 0..1: targets become onehot·(1 − s) + s / numClasses. */
  labelSmoothing?: number;
  /** One weight per class, multiplying each example's loss. */
  classWeights?: number[];
  /** Added to the loss: l2 · Σ kernel² over trainable kernels (weights named …kernel). */
  l2?: number;
}

export type LossSpec = LossName | ClassifierLossSpec;

export type OptimizerKind = 'adam' | 'sgd' | 'rmsprop';

export interface OptimizerSpec {
  kind: OptimizerKind;
  learningRate: number;
  /** Adam. */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** SGD (0 = plain SGD) and RMSprop. */
  momentum?: number;
}

/** One optimiser slot (replica 0's), as `optimizer.getWeights()` lists it. */
export interface OptimizerSlot {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface InitMessage {
  type: 'init';
  replica: number;
  /** Number of replicas (the averaged gradient slot comes after theirs). */
  replicas: number;
  backend: 'wasm' | 'cpu';
  /** Modules to import before building the model (custom layer classes register themselves). */
  modules: string[];
  /** `model.toJSON()` of a tf.LayersModel. */
  modelJson: string;
  /** All weights (`model.getWeights()` order) as flat float32 arrays. */
  weights: Float32Array[];
  /** `trainable` per leaf layer (nested models expanded), in order. */
  trainable: boolean[];
  optimizer: OptimizerSpec;
  loss: LossSpec;
  /** Per-example input and target shapes (without the batch axis). */
  xShape: number[];
  yShape: number[];
  maxBatch: number;
  /** Shared: inputs [maxBatch * size(xShape)], targets [maxBatch * size(yShape)]. */
  xs: SharedArrayBuffer;
  ys: SharedArrayBuffer;
  /**
   * Shared: one slot of `slotSize` floats per replica, then the averaged slot. A slot holds the
   * gradient of the trainable weights, then the values of the non-trainable weights that
   * training changes (batch-norm moving statistics), so those are averaged too.
   */
  grads: SharedArrayBuffer;
  slotSize: number;
  /** Shared Int32Array [SYNC_INTS]: the step barrier and the abort flag (set when any party fails). */
  sync: SharedArrayBuffer;
}

/**
 * One synchronous step. Each replica computes the mean gradient of its shard [start,
 * start+count) of a batch of `batch` into its slot; the replicas meet at a barrier, each averages
 * its share of the parameters (slot k weighted by weights[k]) into the averaged slot, meet again,
 * and each applies the whole average. No round trip through the main thread between the two.
 */
export interface StepMessage {
  type: 'step';
  step: number;
  start: number;
  count: number;
  batch: number;
  /** Each replica's share of the batch (its shard size / batch). */
  weights: number[];
  /** Seeds for the model's dropout layers, in leaf-layer order (each replica mixes in its index). */
  dropoutSeeds?: number[];
  /** The learning rate of this step (schedules live in the main thread). */
  learningRate?: number;
}

/** Indices into the shared Int32Array `sync`: barrier arrivals, barrier generation, abort flag. */
export const SYNC_ARRIVED = 0;
export const SYNC_GENERATION = 1;
export const SYNC_ABORT = 2;
export const SYNC_INTS = 4;

/** Change which layers train and/or start a fresh optimiser (two-phase fine-tuning). */
export interface ConfigureMessage {
  type: 'configure';
  trainable?: boolean[];
  optimizer?: OptimizerSpec;
}

export interface GetOptimizerMessage {
  type: 'get-optimizer';
}

export interface SetOptimizerMessage {
  type: 'set-optimizer';
  slots: OptimizerSlot[];
}

export interface WeightsMessage {
  type: 'weights';
}

export interface StatsMessage {
  type: 'stats';
}

export type ToWorker =
  | InitMessage
  | StepMessage
  | ConfigureMessage
  | GetOptimizerMessage
  | SetOptimizerMessage
  | WeightsMessage
  | StatsMessage;

export type FromWorker =
  /** `exchange`: floats per slot in use (trainable gradient + changing non-trainable weights). */
  | { type: 'ready'; replica: number; paramCount: number; exchange: number }
  | { type: 'configured'; paramCount: number; exchange: number }
  /** `correct`: examples of the shard whose argmax matched (classifier loss; else 0). */
  | { type: 'step-done'; step: number; loss: number; correct: number }
  | { type: 'optimizer'; slots: OptimizerSlot[] }
  | { type: 'optimizer-set' }
  | { type: 'weights'; weights: Float32Array[] }
  | { type: 'stats'; numTensors: number; numDataIds: number }
  /** `abandoned`: this replica gave up waiting at the step barrier because another party failed. */
  | { type: 'error'; message: string; abandoned?: boolean };
