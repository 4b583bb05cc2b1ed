/**
 * One data-parallel replica (a worker thread): holds a copy of the model and the optimizer,
 * computes gradients on its shard of each batch into its shared slot, and applies the averaged
 * gradient the replicas compute together (each its share, between two barriers), so every replica
 * performs the identical update.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { FusedAdam, registerWasmTrainingKernels } from '../backend/wasm-kernels/index.ts';
import {
  type FromWorker,
  type InitMessage,
  type LossName,
  type LossSpec,
  type OptimizerSlot,
  type OptimizerSpec,
  type StepMessage,
  SYNC_ABORT,
  SYNC_ARRIVED,
  SYNC_GENERATION,
  type ToWorker,
} from './protocol.ts';

interface Replica {
  init: InitMessage;
  model: tf.LayersModel;
  layers: tf.layers.Layer[];
  dropouts: (tf.layers.Layer & { seed?: number })[];
  /** Trainable variables (gradient order). */
  vars: tf.Variable[];
  /** Trainable kernels (the L2 penalty). */
  kernels: tf.Variable[];
  /** Non-trainable weights of trainable layers (batch-norm moving statistics): averaged too. */
  stateful: tf.Variable[];
  paramCount: number;
  exchange: number;
  optimizer: tf.Optimizer;
  optimizerSpec: OptimizerSpec;
  classWeights: tf.Tensor1D | undefined;
  xs: Float32Array;
  ys: Float32Array;
  grads: Float32Array;
  sync: Int32Array;
  xSize: number;
  ySize: number;
}

let replica: Replica | undefined;

function post(message: FromWorker): void {
  parentPort!.postMessage(message);
}

function lossOf(name: LossName, labels: tf.Tensor, predictions: tf.Tensor): tf.Scalar {
  switch (name) {
    case 'softmaxCrossEntropy':
      return tf.losses.softmaxCrossEntropy(labels, predictions) as tf.Scalar;
    case 'sigmoidCrossEntropy':
      return tf.losses.sigmoidCrossEntropy(labels, predictions) as tf.Scalar;
    case 'meanSquaredError':
      return tf.losses.meanSquaredError(labels, predictions) as tf.Scalar;
    default: {
      const never: never = name;
      throw new Error(`unknown loss ${String(never)}`);
    }
  }
}

/** The same optimisers the training loop creates in the main thread (FusedAdam on wasm). */
function createOptimizer(o: OptimizerSpec, backend: string): tf.Optimizer {
  switch (o.kind) {
    case 'adam':
      return backend === 'wasm' ? new FusedAdam(o.learningRate, o.beta1, o.beta2, o.epsilon ?? null) : tf.train.adam(o.learningRate, o.beta1, o.beta2, o.epsilon);
    case 'sgd':
      return (o.momentum ?? 0) > 0 ? tf.train.momentum(o.learningRate, o.momentum!) : tf.train.sgd(o.learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(o.learningRate, 0.9, o.momentum ?? 0);
    default: {
      const never: never = o.kind;
      throw new Error(`unknown optimizer ${String(never)}`);
    }
  }
}

function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as tf.Optimizer & { learningRate: number; setLearningRate?: (lr: number) => void };
  if (o.learningRate === lr) return;
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  (optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
}

function leafLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  for (const layer of model.layers) {
    const inner = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
    if (Array.isArray(inner)) out.push(...leafLayers(layer as unknown as tf.LayersModel));
    else out.push(layer);
  }
  return out;
}

const isBatchNorm = (l: tf.layers.Layer): boolean => l.getClassName() === 'BatchNormalization';

/** As the training loop does: frozen batch-norm layers use their moving statistics in training. */
function frozenBatchNormInInferenceMode(layers: tf.layers.Layer[]): void {
  for (const layer of layers) {
    if (!isBatchNorm(layer)) continue;
    const own = layer as unknown as { call: (inputs: unknown, kwargs: Record<string, unknown>) => unknown };
    const original = own.call;
    own.call = (inputs, kwargs) => original.call(layer, inputs, layer.trainable ? kwargs : { ...kwargs, training: false });
  }
}

/** Applies trainable flags and recomputes the variable sets that depend on them. */
function trainableSets(r: Pick<Replica, 'model' | 'layers' | 'init'>, trainable: boolean[]) {
  if (trainable.length !== r.layers.length)
    throw new Error(`replica ${r.init.replica}: ${trainable.length} trainable flags for ${r.layers.length} layers`);
  r.layers.forEach((l, i) => {
    if (l.trainable !== trainable[i]) l.trainable = trainable[i];
  });
  const vars = r.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const kernels = r.model.trainableWeights.filter((w) => /kernel/.test(w.originalName ?? w.name)).map((w) => w.read() as tf.Variable);
  const stateful = r.layers.filter((l) => l.trainable).flatMap((l) => l.nonTrainableWeights.map((w) => w.read() as tf.Variable));
  const paramCount = vars.reduce((n, v) => n + v.size, 0);
  const exchange = paramCount + stateful.reduce((n, v) => n + v.size, 0);
  if (exchange > r.init.slotSize) throw new Error(`replica ${r.init.replica}: ${exchange} floats to exchange, slots hold ${r.init.slotSize}`);
  return { vars, kernels, stateful, paramCount, exchange };
}

async function initialise(init: InitMessage): Promise<void> {
  if (!(await tf.setBackend(init.backend))) throw new Error(`replica ${init.replica}: backend ${init.backend} failed to start`);
  if (init.backend === 'wasm') registerWasmTrainingKernels();
  for (const m of init.modules) await import(m);
  const model = await tf.models.modelFromJSON(JSON.parse(init.modelJson));
  const current = model.getWeights();
  if (current.length !== init.weights.length)
    throw new Error(`replica ${init.replica}: model has ${current.length} weights, got ${init.weights.length}`);
  const initial = current.map((w, i) => tf.tensor(init.weights[i], w.shape, w.dtype));
  model.setWeights(initial);
  tf.dispose(initial); // the variables hold their own reference
  const layers = leafLayers(model);
  frozenBatchNormInInferenceMode(layers);
  const sets = trainableSets({ model, layers, init }, init.trainable);
  const loss = init.loss;
  replica = {
    init,
    model,
    layers,
    dropouts: layers.filter((l) => l.getClassName() === 'Dropout'),
    ...sets,
    optimizer: createOptimizer(init.optimizer, init.backend),
    optimizerSpec: init.optimizer,
    classWeights: typeof loss === 'object' && loss.classWeights ? tf.tensor1d(loss.classWeights) : undefined,
    xs: new Float32Array(init.xs),
    ys: new Float32Array(init.ys),
    grads: new Float32Array(init.grads),
    sync: new Int32Array(init.sync),
    xSize: init.xShape.reduce((a, b) => a * b, 1),
    ySize: init.yShape.reduce((a, b) => a * b, 1),
  };
  post({ type: 'ready', replica: init.replica, paramCount: sets.paramCount, exchange: sets.exchange });
}

/** The loss of a classifier as the training loop defines it; `hits` receives the argmax matches. */
function classifierLoss(r: Replica, spec: Extract<LossSpec, { kind: 'classifier' }>, labels: tf.Tensor1D, probs: tf.Tensor, hits: { t?: tf.Scalar }): tf.Scalar {
  if (probs.shape[1] !== spec.numClasses) throw new Error(`the model outputs ${probs.shape[1]} classes but the loss expects ${spec.numClasses}`);
  hits.t = tf.keep(probs.argMax(-1).equal(labels).sum()) as tf.Scalar;
  let target = tf.oneHot(labels, spec.numClasses).toFloat();
  const s = spec.labelSmoothing ?? 0;
  if (s > 0) target = target.mul(1 - s).add(s / spec.numClasses);
  let perImage = target.mul(probs.add(1e-7).log()).sum(-1).neg();
  if (r.classWeights) perImage = perImage.mul(r.classWeights.gather(labels));
  let loss = perImage.mean() as tf.Scalar;
  const l2 = spec.l2 ?? 0;
  if (l2 > 0 && r.kernels.length > 0) loss = loss.add(tf.addN(r.kernels.map((v) => v.square().sum())).mul(l2));
  return loss;
}

/**
 * A float32 tensor's values without a copy where the backend allows it (a view of the wasm heap,
 * valid until the next allocation), else a copy.
 */
function floats(t: tf.Tensor): Float32Array {
  const backend = tf.backend() as unknown as { typedArrayFromHeap?: (info: tf.TensorInfo) => Float32Array };
  if (tf.getBackend() === 'wasm' && t.dtype === 'float32' && backend.typedArrayFromHeap) return backend.typedArrayFromHeap(t);
  return t.dataSync() as Float32Array;
}

/** Writes the shard-mean gradient (then the changing non-trainable weights) into this replica's slot. */
function computeGrad(r: Replica, start: number, count: number, dropoutSeeds: number[] | undefined): { loss: number; correct: number } {
  const { init, vars } = r;
  const slot = r.grads.subarray(init.replica * init.slotSize, init.replica * init.slotSize + r.exchange);
  if (count === 0) {
    slot.fill(0);
    return { loss: 0, correct: 0 };
  }
  if (dropoutSeeds) r.dropouts.forEach((l, i) => (l.seed = dropoutSeeds[i] === undefined ? undefined : (dropoutSeeds[i] + init.replica * 7919) >>> 0));
  const x = tf.tensor(r.xs.subarray(start * r.xSize, (start + count) * r.xSize), [count, ...init.xShape]);
  const spec = init.loss;
  const y =
    typeof spec === 'object'
      ? tf.tensor1d(Int32Array.from(r.ys.subarray(start, start + count)), 'int32')
      : tf.tensor(r.ys.subarray(start * r.ySize, (start + count) * r.ySize), [count, ...init.yShape]);
  const hits: { t?: tf.Scalar } = {};
  try {
    const { value, grads } = tf.variableGrads(() => {
      const out = r.model.apply(x, { training: true }) as tf.Tensor;
      return typeof spec === 'object' ? classifierLoss(r, spec, y as tf.Tensor1D, out, hits) : lossOf(spec, y, out);
    }, vars);
    let offset = 0;
    for (const v of vars) {
      slot.set(floats(grads[v.name]), offset);
      offset += v.size;
    }
    for (const v of r.stateful) {
      slot.set(v.dataSync() as Float32Array, offset);
      offset += v.size;
    }
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, correct: hits.t ? hits.t.dataSync()[0] : 0 };
  } finally {
    tf.dispose([x, y]);
    hits.t?.dispose();
  }
}

/** Thrown at the step barrier when another party failed: not this replica's own failure. */
class AbandonedStep extends Error {}

/**
 * Waits until every replica has arrived (a reusable generation-counting barrier). Throws when
 * the trainer or another replica has failed, so no replica waits for a party that will not come.
 */
function barrier(r: Replica): void {
  const { sync } = r;
  const generation = Atomics.load(sync, SYNC_GENERATION);
  if (Atomics.load(sync, SYNC_ABORT) !== 0) throw new AbandonedStep('the step was abandoned: another replica or the trainer failed');
  if (Atomics.add(sync, SYNC_ARRIVED, 1) === r.init.replicas - 1) {
    Atomics.store(sync, SYNC_ARRIVED, 0);
    Atomics.add(sync, SYNC_GENERATION, 1);
    Atomics.notify(sync, SYNC_GENERATION);
    return;
  }
  while (Atomics.load(sync, SYNC_GENERATION) === generation) {
    if (Atomics.load(sync, SYNC_ABORT) !== 0) throw new AbandonedStep('the step was abandoned: another replica or the trainer failed');
    Atomics.wait(sync, SYNC_GENERATION, generation, 250);
  }
}

/** This replica's share [lo, hi) of the averaged slot: avg = Σ_k weights[k] · slot_k. */
function averageShare(r: Replica, weights: number[]): void {
  const { init, grads } = r;
  const n = init.replicas;
  const lo = Math.floor((init.replica * r.exchange) / n);
  const hi = Math.floor(((init.replica + 1) * r.exchange) / n);
  const out = n * init.slotSize;
  const w0 = weights[0];
  for (let i = lo; i < hi; i++) grads[out + i] = grads[i] * w0;
  for (let k = 1; k < n; k++) {
    const w = weights[k];
    if (w === 0) continue;
    const base = k * init.slotSize;
    for (let i = lo; i < hi; i++) grads[out + i] += grads[base + i] * w;
  }
}

function applyAverage(r: Replica, learningRate: number | undefined): void {
  const { init, vars } = r;
  if (learningRate !== undefined) setLearningRate(r.optimizer, learningRate);
  const base = init.replicas * init.slotSize;
  const avg = r.grads.subarray(base, base + r.exchange);
  const named: tf.NamedTensorMap = {};
  let offset = 0;
  for (const v of vars) {
    named[v.name] = tf.tensor(avg.subarray(offset, offset + v.size), v.shape);
    offset += v.size;
  }
  r.optimizer.applyGradients(named);
  tf.dispose(Object.values(named));
  for (const v of r.stateful) {
    const t = tf.tensor(avg.subarray(offset, offset + v.size), v.shape, v.dtype);
    v.assign(t);
    t.dispose();
    offset += v.size;
  }
}

/** Gradient of this replica's shard, barrier, its share of the average, barrier, the update. */
function step(r: Replica, m: StepMessage): { loss: number; correct: number } {
  const result = computeGrad(r, m.start, m.count, m.dropoutSeeds);
  barrier(r);
  averageShare(r, m.weights);
  barrier(r);
  applyAverage(r, m.learningRate);
  return result;
}

async function optimizerSlots(r: Replica): Promise<OptimizerSlot[]> {
  const weights = await r.optimizer.getWeights();
  const slots = weights.map((w) => ({ name: w.name, shape: [...w.tensor.shape], data: Float32Array.from(w.tensor.dataSync()) }));
  // `iter` is created by getWeights; the others are the optimiser's live variables.
  for (const w of weights) if (w.name === 'iter') w.tensor.dispose();
  return slots;
}

/** Restores slots saved by any process: FusedAdam matches them by variable name, so rename them after ours. */
async function setOptimizerSlots(r: Replica, slots: OptimizerSlot[]): Promise<void> {
  if (slots.length === 0) return;
  const fused = r.optimizer instanceof FusedAdam;
  const name = (i: number): string =>
    i === 0 ? 'iter' : fused ? `${r.vars[Math.floor((i - 1) / 2)]?.name ?? `s${i}`}/${(i - 1) % 2 === 0 ? 'm' : 'v'}` : `s${i}`;
  const named = slots.map((s, i) => ({ name: name(i), tensor: tf.tensor(s.data, s.shape, i === 0 ? 'int32' : 'float32') }));
  try {
    await r.optimizer.setWeights(named);
  } finally {
    tf.dispose(named.map((n) => n.tensor));
  }
}

parentPort!.on('message', async (message: ToWorker) => {
  try {
    switch (message.type) {
      case 'init':
        await initialise(message);
        return;
      case 'step': {
        const r = replica!;
        post({ type: 'step-done', step: message.step, ...step(r, message) });
        return;
      }
      case 'configure': {
        const r = replica!;
        const before = r.vars;
        if (message.trainable) Object.assign(r, trainableSets(r, message.trainable));
        const changed = r.vars.length !== before.length || r.vars.some((v, i) => v !== before[i]);
        // Optimiser slots belong to the old variable set: a new set gets a fresh optimiser (at the current rate).
        const spec = message.optimizer ?? (changed ? { ...r.optimizerSpec, learningRate: (r.optimizer as unknown as { learningRate: number }).learningRate } : undefined);
        if (spec) {
          disposeOptimizer(r.optimizer);
          r.optimizer = createOptimizer(spec, r.init.backend);
          r.optimizerSpec = spec;
        }
        post({ type: 'configured', paramCount: r.paramCount, exchange: r.exchange });
        return;
      }
      case 'get-optimizer': {
        post({ type: 'optimizer', slots: await optimizerSlots(replica!) });
        return;
      }
      case 'set-optimizer': {
        await setOptimizerSlots(replica!, message.slots);
        post({ type: 'optimizer-set' });
        return;
      }
      case 'weights': {
        post({ type: 'weights', weights: replica!.model.getWeights().map((w) => w.dataSync() as Float32Array) });
        return;
      }
      case 'stats': {
        const backend = tf.backend() as unknown as { numDataIds(): number };
        post({ type: 'stats', numTensors: tf.memory().numTensors, numDataIds: backend.numDataIds() });
        return;
      }
      default: {
        const never: never = message;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  } catch (error) {
    // Replicas waiting at the step barrier for this one give up instead of waiting forever.
    if (replica) {
      Atomics.store(replica.sync, SYNC_ABORT, 1);
      Atomics.notify(replica.sync, SYNC_GENERATION);
    }
    post({ type: 'error', message: error instanceof Error ? `${error.message}` : String(error), abandoned: error instanceof AbandonedStep });
  }
});
