/** Messages between a DataParallelTrainer and its replica workers (structured-clone safe). */

export type LossName = 'softmaxCrossEntropy' | 'sigmoidCrossEntropy' | 'meanSquaredError';

export interface OptimizerSpec {
  kind: 'adam';
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export interface InitMessage {
  type: 'init';
  replica: number;
  /** Number of replicas (the averaged gradient slot comes after theirs). */
  replicas: number;
  backend: 'wasm' | 'cpu';
  /** `model.toJSON()` of a tf.LayersModel. */
  modelJson: string;
  /** All weights (`model.getWeights()` order) as flat float32 arrays. */
  weights: Float32Array[];
  optimizer: OptimizerSpec;
  loss: LossName;
  /** Per-example input and target shapes (without the batch axis). */
  xShape: number[];
  yShape: number[];
  maxBatch: number;
  /** Shared: inputs [maxBatch * size(xShape)], targets [maxBatch * size(yShape)]. */
  xs: SharedArrayBuffer;
  ys: SharedArrayBuffer;
  /** Shared: one gradient slot of `paramCount` floats per replica, then the averaged gradient. */
  grads: SharedArrayBuffer;
  paramCount: number;
}

/** Compute the mean gradient of this replica's shard [start, start+count) of a batch of `batch`. */
export interface GradMessage {
  type: 'grad';
  step: number;
  start: number;
  count: number;
  batch: number;
}

/** Apply the averaged gradient (the slot after the per-replica ones). */
export interface ApplyMessage {
  type: 'apply';
  step: number;
}

export interface WeightsMessage {
  type: 'weights';
}

export interface StatsMessage {
  type: 'stats';
}

export type ToWorker = InitMessage | GradMessage | ApplyMessage | WeightsMessage | StatsMessage;

export type FromWorker =
  | { type: 'ready'; replica: number; paramCount: number }
  | { type: 'grad-done'; step: number; loss: number }
  | { type: 'applied'; step: number }
  | { type: 'weights'; weights: Float32Array[] }
  | { type: 'stats'; numTensors: number; numDataIds: number }
  | { type: 'error'; message: string };
