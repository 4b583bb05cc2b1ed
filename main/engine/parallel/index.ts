// Engine layer: may import node:*, @tensorflow/* and sibling engine modules only.
/**
 * Data-parallel training over worker_threads. Each worker holds a replica of the model and the
 * optimizer; per batch every replica computes the gradient of its shard into a SharedArrayBuffer
 * slot, the replicas meet at a barrier (Atomics), each averages its share of the parameters over
 * the slots (weighted by shard size, i.e. the global-batch mean), and after a second barrier
 * every replica applies that same averaged gradient with the same optimizer, so the replicas stay
 * identical and the result equals single-worker training up to float summation order. The main
 * thread only posts one message per replica per step and collects the losses.
 *
 * The exchange is "gradient slots in, one averaged gradient out": the same scheme spans several
 * GPUs or processes by swapping the SharedArrayBuffer for another all-reduce transport.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { type FromWorker, type LossSpec, type OptimizerSlot, type OptimizerSpec, SYNC_ABORT, SYNC_GENERATION, SYNC_INTS, type ToWorker } from './protocol.ts';

export type { ClassifierLossSpec, LossName, LossSpec, OptimizerKind, OptimizerSlot, OptimizerSpec } from './protocol.ts';

export interface DataParallelOptions {
  /** The model to replicate (its current weights are the starting point). */
  model: tf.LayersModel;
  /** Worker count; default `suggestReplicas(model)`. */
  replicas?: number;
  backend?: 'wasm' | 'cpu';
  optimizer: OptimizerSpec;
  /** A named loss on targets shaped like the model's output, or the classifier loss on class indices. */
  loss: LossSpec;
  /** Largest batch trainBatch will be given. */
  maxBatch: number;
  /** Aborting tears the workers down (pending calls reject). */
  signal?: AbortSignal;
  /** Module URLs each replica imports before building the model (custom layers register there). */
  modules?: string[];
}

/** What one step returned: the batch-mean loss and, for the classifier loss, the argmax hits. */
export interface StepResult {
  loss: number;
  correct: number;
}

export interface StepOptions {
  /** This step's learning rate (default: the optimiser's current one). */
  learningRate?: number;
  /** Seeds for the model's dropout layers, in leaf-layer order. */
  dropoutSeeds?: number[];
}

/** Layers with nested models expanded, in order (the order trainable flags are given in). */
export function leafLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  for (const layer of model.layers) {
    const inner = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
    if (Array.isArray(inner)) out.push(...leafLayers(layer as unknown as tf.LayersModel));
    else out.push(layer);
  }
  return out;
}

/** `trainable` of each leaf layer: what `configure({ trainable })` and the replicas expect. */
export const trainableFlags = (model: tf.LayersModel): boolean[] => leafLayers(model).map((l) => l.trainable);

const size = (shape: readonly (number | null)[]) => shape.reduce((a: number, b) => a * (b ?? 1), 1);

/**
 * How many replicas pay off here: one per core (at most 4) when there is more than one core and
 * the model has enough parameters for the per-step exchange to be small next to the compute.
 */
export function suggestReplicas(model: tf.LayersModel, cores = os.availableParallelism()): number {
  const params = model.trainableWeights.reduce((n, w) => n + size(w.shape), 0);
  if (cores < 2 || params < 20_000) return 1;
  return Math.min(cores, 4);
}

/**
 * Starts a replica worker running worker.ts. On Node 20 `execArgv: ['--import', 'tsx']` does not
 * reach a worker's entry module ("Unknown file extension .ts"), so the worker first registers
 * tsx's loader through its API, then imports the entry. (A bundled build would point at .js.)
 */
function spawnReplica(): Worker {
  const entry = new URL('./worker.ts', import.meta.url).href;
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { (m.register ?? m.default.register)(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true });
}

let live = 0;

interface Pending {
  expect: FromWorker['type'];
  resolve: (message: FromWorker) => void;
  reject: (error: Error) => void;
}

export class DataParallelTrainer {
  /** Replica threads alive in this process, over all trainers (leak checks). */
  static get liveWorkers(): number {
    return live;
  }

  private readonly pending: (Pending | undefined)[];
  private failure: Error | undefined;
  private stepCount = 0;
  private disposed = false;
  private disposing: Promise<void> | undefined;
  private trainableParams = 0;
  private unlisten: (() => void) | undefined;

  private constructor(
    private readonly workers: Worker[],
    private readonly xs: Float32Array,
    private readonly ys: Float32Array,
    private readonly sync: Int32Array,
    readonly maxBatch: number,
  ) {
    this.pending = workers.map(() => undefined);
    workers.forEach((worker, i) => {
      live++;
      worker.on('message', (message: FromWorker) => this.onMessage(i, message));
      worker.on('error', (error) => this.fail(new Error(`data-parallel replica ${i} crashed: ${error.message}`)));
      worker.on('exit', (code) => {
        live--;
        if (!this.disposed) this.fail(new Error(`data-parallel replica ${i} exited (code ${code})`));
      });
    });
  }

  /** Trainable parameters (the gradient size) under the current trainable flags. */
  get paramCount(): number {
    return this.trainableParams;
  }

  /** Spawns the replicas and waits until each has built its model. */
  static async create(opts: DataParallelOptions): Promise<DataParallelTrainer> {
    const { model } = opts;
    const replicas = opts.replicas ?? suggestReplicas(model);
    if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`data-parallel training: replicas must be a positive integer, got ${replicas}`);
    if (!Number.isInteger(opts.maxBatch) || opts.maxBatch < 1) throw new Error(`data-parallel training: maxBatch must be a positive integer, got ${opts.maxBatch}`);
    if (opts.signal?.aborted) throw new Error('data-parallel training was cancelled before it started');
    if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new Error('data-parallel training needs a model with one input and one output');
    const xShape = model.inputs[0].shape.slice(1) as number[];
    // The classifier loss takes one class index per example.
    const yShape = typeof opts.loss === 'object' ? [1] : (model.outputs[0].shape.slice(1) as number[]);
    if ([...xShape, ...yShape].some((d) => d == null))
      throw new Error('data-parallel training needs fixed input and output shapes (besides the batch axis)');
    const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
    // A slot fits every weight: the trainable gradient plus changing non-trainable weights never exceed that.
    const slotSize = model.weights.reduce((n, w) => n + size(w.shape), 0);
    const xsBuf = new SharedArrayBuffer(opts.maxBatch * size(xShape) * 4);
    const ysBuf = new SharedArrayBuffer(opts.maxBatch * size(yShape) * 4);
    const gradBuf = new SharedArrayBuffer((replicas + 1) * slotSize * 4);
    const syncBuf = new SharedArrayBuffer(SYNC_INTS * 4);
    const modelJson = model.toJSON(null, true) as string;
    const trainable = trainableFlags(model);
    const workers = Array.from({ length: replicas }, () => spawnReplica());
    const trainer = new DataParallelTrainer(workers, new Float32Array(xsBuf), new Float32Array(ysBuf), new Int32Array(syncBuf), opts.maxBatch);
    if (opts.signal) {
      const signal = opts.signal;
      const onAbort = (): void => void trainer.dispose();
      signal.addEventListener('abort', onAbort, { once: true });
      trainer.unlisten = () => signal.removeEventListener('abort', onAbort);
    }
    try {
      const replies = await Promise.all(
        workers.map((_, replica) =>
          trainer.request(
            replica,
            {
              type: 'init',
              replica,
              replicas,
              backend: opts.backend ?? 'wasm',
              modules: opts.modules ?? [],
              modelJson,
              weights,
              trainable,
              optimizer: opts.optimizer,
              loss: opts.loss,
              xShape,
              yShape,
              maxBatch: opts.maxBatch,
              xs: xsBuf,
              ys: ysBuf,
              grads: gradBuf,
              slotSize,
              sync: syncBuf,
            },
            'ready',
          ),
        ),
      );
      trainer.takeSizes(replies);
    } catch (error) {
      await trainer.dispose();
      throw error;
    }
    return trainer;
  }

  get replicas(): number {
    return this.workers.length;
  }

  /**
   * One synchronous data-parallel step on `batch` examples (flat, row-major, batch first).
   * Returns the mean loss over the batch.
   */
  async trainBatch(xs: Float32Array, ys: Float32Array, batch: number): Promise<number> {
    return (await this.step(xs, ys, batch)).loss;
  }

  /**
   * One synchronous data-parallel step; `ys` holds one class index per example for the
   * classifier loss. Returns the batch-mean loss and the argmax hits over the whole batch.
   */
  async step(xs: Float32Array, ys: Float32Array, batch: number, options: StepOptions = {}): Promise<StepResult> {
    this.assertUsable();
    if (!Number.isInteger(batch) || batch < 1 || batch > this.maxBatch)
      throw new Error(`data-parallel trainBatch: batch must be 1..${this.maxBatch}, got ${batch}`);
    const xPer = this.xs.length / this.maxBatch;
    const yPer = this.ys.length / this.maxBatch;
    if (xs.length !== batch * xPer || ys.length !== batch * yPer)
      throw new Error(`data-parallel trainBatch: expected ${batch * xPer} inputs and ${batch * yPer} targets, got ${xs.length} and ${ys.length}`);
    this.xs.set(xs);
    this.ys.set(ys);
    const step = ++this.stepCount;
    const n = this.workers.length;
    const shards = this.workers.map((_, i) => {
      const start = Math.floor((i * batch) / n);
      return { start, count: Math.floor(((i + 1) * batch) / n) - start };
    });
    const { dropoutSeeds, learningRate } = options;
    const weights = shards.map((s) => s.count / batch);
    const done = await Promise.all(
      shards.map(({ start, count }, i) => this.request(i, { type: 'step', step, start, count, batch, weights, dropoutSeeds, learningRate }, 'step-done')),
    );
    let loss = 0;
    let correct = 0;
    done.forEach((m, i) => {
      if (m.type !== 'step-done' || shards[i].count === 0) return;
      loss += m.loss * weights[i];
      correct += m.correct;
    });
    return { loss, correct };
  }

  /**
   * Changes which layers train (`trainableFlags(model)` after freezing or unfreezing) and/or
   * replaces every replica's optimiser with a fresh one. A changed trainable set always starts a
   * fresh optimiser (of `optimizer`, else the current kind at the current learning rate): its
   * slots belonged to the old set of variables.
   */
  async configure(change: { trainable?: boolean[]; optimizer?: OptimizerSpec }): Promise<void> {
    this.assertUsable();
    const replies = await Promise.all(this.workers.map((_, i) => this.request(i, { type: 'configure', ...change }, 'configured')));
    this.takeSizes(replies);
  }

  /** Replica 0's optimiser slots as `optimizer.getWeights()` lists them (checkpoints). */
  async getOptimizerState(): Promise<OptimizerSlot[]> {
    this.assertUsable();
    const reply = await this.request(0, { type: 'get-optimizer' }, 'optimizer');
    return reply.type === 'optimizer' ? reply.slots : [];
  }

  /**
   * Loads optimiser slots into every replica (resume). Slots are matched by position, as
   * `getWeights()` of the same optimiser kind on the same trainable set lists them.
   */
  async setOptimizerState(slots: OptimizerSlot[]): Promise<void> {
    this.assertUsable();
    await Promise.all(this.workers.map((_, i) => this.request(i, { type: 'set-optimizer', slots }, 'optimizer-set')));
  }

  /** Weights of one replica (default 0), in `model.getWeights()` order. */
  async getWeights(replica = 0): Promise<Float32Array[]> {
    this.assertUsable();
    const reply = await this.request(replica, { type: 'weights' }, 'weights');
    return reply.type === 'weights' ? reply.weights : [];
  }

  /** Copies replica 0's weights into `model` (same architecture as the one replicated). */
  async syncTo(model: tf.LayersModel): Promise<void> {
    const weights = await this.getWeights(0);
    const current = model.getWeights();
    if (current.length !== weights.length)
      throw new Error(`data-parallel syncTo: model has ${current.length} weights, replicas have ${weights.length}`);
    current.forEach((w, i) => {
      if (w.size !== weights[i].length)
        throw new Error(`data-parallel syncTo: weight ${i} has ${w.size} values in the model, ${weights[i].length} in the replicas (same trainable flags?)`);
    });
    const tensors = current.map((w, i) => tf.tensor(weights[i], w.shape, w.dtype));
    model.setWeights(tensors);
    tf.dispose(tensors);
  }

  /** Live tensor and wasm-buffer counts per replica (leak checks). */
  async stats(): Promise<{ numTensors: number; numDataIds: number }[]> {
    this.assertUsable();
    const replies = await Promise.all(this.workers.map((_, i) => this.request(i, { type: 'stats' }, 'stats')));
    return replies.map((r) => (r.type === 'stats' ? { numTensors: r.numTensors, numDataIds: r.numDataIds } : { numTensors: -1, numDataIds: -1 }));
  }

  /** Terminates every replica; pending calls reject. Safe to call more than once. */
  dispose(): Promise<void> {
    if (!this.disposing) {
      this.disposed = true;
      this.unlisten?.();
      this.fail(new Error('data-parallel trainer was disposed'));
      this.disposing = Promise.all(this.workers.map((w) => w.terminate())).then(() => undefined);
    }
    // A second caller (e.g. after an abort started it) also waits until every thread has exited.
    return this.disposing;
  }

  /** Every replica must exchange the same number of floats. */
  private takeSizes(replies: FromWorker[]): void {
    const sizes = replies.map((r) => (r.type === 'ready' || r.type === 'configured' ? [r.exchange, r.paramCount] : [-1, -1]));
    if (sizes.some(([e]) => e !== sizes[0][0] || e < 0))
      throw new Error(`data-parallel replicas disagree on the parameters to exchange: ${sizes.map(([e]) => e).join(', ')}`);
    this.trainableParams = sizes[0][1];
  }

  private assertUsable(): void {
    if (this.failure) throw this.failure;
  }

  private request(replica: number, message: ToWorker, expect: FromWorker['type']): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending[replica]) return Promise.reject(new Error(`data-parallel replica ${replica} is busy`));
    return new Promise((resolve, reject) => {
      this.pending[replica] = { expect, resolve, reject };
      this.workers[replica].postMessage(message);
    });
  }

  private onMessage(replica: number, message: FromWorker): void {
    const pending = this.pending[replica];
    this.pending[replica] = undefined;
    if (message.type === 'error' && message.abandoned) {
      // The root cause comes from the party that failed; this call fails with it.
      this.pending[replica] = pending;
      return;
    }
    if (message.type === 'error') {
      const error = new Error(`data-parallel replica ${replica}: ${message.message}`);
      pending?.reject(error);
      this.fail(error);
      void this.dispose();
      return;
    }
    if (!pending || pending.expect !== message.type) {
      this.fail(new Error(`data-parallel replica ${replica}: unexpected "${message.type}" reply`));
      return;
    }
    pending.resolve(message);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    // Replicas waiting at the step barrier for a party that will not come give up.
    Atomics.store(this.sync, SYNC_ABORT, 1);
    Atomics.notify(this.sync, SYNC_GENERATION);
    this.pending.forEach((p, i) => {
      if (!p) return;
      this.pending[i] = undefined;
      p.reject(error);
    });
  }
}
