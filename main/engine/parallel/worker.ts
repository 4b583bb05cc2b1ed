/**
 * One data-parallel replica (a worker thread): holds a copy of the model and the optimizer,
 * computes gradients on its shard of each batch into its shared slot, and applies the averaged
 * gradient the trainer publishes, so every replica performs the identical update.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { FusedAdam, registerWasmTrainingKernels } from '../backend/wasm-kernels/index.ts';
import type { FromWorker, InitMessage, LossName, ToWorker } from './protocol.ts';

interface Replica {
  init: InitMessage;
  model: tf.LayersModel;
  vars: tf.Variable[];
  optimizer: FusedAdam;
  xs: Float32Array;
  ys: Float32Array;
  grads: Float32Array;
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

async function initialise(init: InitMessage): Promise<void> {
  if (!(await tf.setBackend(init.backend))) throw new Error(`replica ${init.replica}: backend ${init.backend} failed to start`);
  if (init.backend === 'wasm') registerWasmTrainingKernels();
  const model = await tf.models.modelFromJSON(JSON.parse(init.modelJson));
  const current = model.getWeights();
  if (current.length !== init.weights.length)
    throw new Error(`replica ${init.replica}: model has ${current.length} weights, got ${init.weights.length}`);
  const initial = current.map((w, i) => tf.tensor(init.weights[i], w.shape, w.dtype));
  model.setWeights(initial);
  tf.dispose(initial); // the variables hold their own reference
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const paramCount = vars.reduce((n, v) => n + v.size, 0);
  if (paramCount !== init.paramCount)
    throw new Error(`replica ${init.replica}: ${paramCount} trainable parameters, trainer expected ${init.paramCount}`);
  const o = init.optimizer;
  replica = {
    init,
    model,
    vars,
    optimizer: new FusedAdam(o.learningRate, o.beta1, o.beta2, o.epsilon ?? null),
    xs: new Float32Array(init.xs),
    ys: new Float32Array(init.ys),
    grads: new Float32Array(init.grads),
    xSize: init.xShape.reduce((a, b) => a * b, 1),
    ySize: init.yShape.reduce((a, b) => a * b, 1),
  };
  post({ type: 'ready', replica: init.replica, paramCount });
}

/** Writes the shard-mean gradient into this replica's slot (the trainer weights it by count / batch). */
function computeGrad(r: Replica, start: number, count: number): number {
  const { init, vars } = r;
  const slot = r.grads.subarray(init.replica * init.paramCount, (init.replica + 1) * init.paramCount);
  if (count === 0) {
    slot.fill(0);
    return 0;
  }
  const x = tf.tensor(r.xs.subarray(start * r.xSize, (start + count) * r.xSize), [count, ...init.xShape]);
  const y = tf.tensor(r.ys.subarray(start * r.ySize, (start + count) * r.ySize), [count, ...init.yShape]);
  try {
    const { value, grads } = tf.variableGrads(
      () => lossOf(init.loss, y, r.model.apply(x, { training: true }) as tf.Tensor),
      vars,
    );
    let offset = 0;
    for (const v of vars) {
      const g = grads[v.name];
      const data = g.dataSync() as Float32Array;
      slot.set(data, offset);
      offset += data.length;
    }
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    return loss;
  } finally {
    tf.dispose([x, y]);
  }
}

function applyAverage(r: Replica): void {
  const { init, vars } = r;
  const avg = r.grads.subarray(init.replicas * init.paramCount, (init.replicas + 1) * init.paramCount);
  const named: tf.NamedTensorMap = {};
  let offset = 0;
  for (const v of vars) {
    named[v.name] = tf.tensor(avg.subarray(offset, offset + v.size), v.shape);
    offset += v.size;
  }
  r.optimizer.applyGradients(named);
  tf.dispose(Object.values(named));
}

parentPort!.on('message', async (message: ToWorker) => {
  try {
    switch (message.type) {
      case 'init':
        await initialise(message);
        return;
      case 'grad': {
        const r = replica!;
        post({ type: 'grad-done', step: message.step, loss: computeGrad(r, message.start, message.count) });
        return;
      }
      case 'apply': {
        applyAverage(replica!);
        post({ type: 'applied', step: message.step });
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
    post({ type: 'error', message: error instanceof Error ? `${error.message}` : String(error) });
  }
});
