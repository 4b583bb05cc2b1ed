/** Shared pieces of classifier training and evaluation: loss, batched prediction, checks. */
import * as tf from '@tensorflow/tfjs';
import { NodeError } from '../../main/engine/errors.ts';
import type { Dataset, ImageShape, Normalization } from './dataset.ts';
import { batchIndices, batchTensors } from './dataset.ts';

/** Mean cross-entropy of softmax outputs `probs` [n,k] against int labels `y` [n]. */
export function crossEntropy(y: tf.Tensor1D, probs: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const k = probs.shape[1];
    // Adding eps (not clipping) keeps log finite yet lets a NaN output through: clip and
    // max/min drop NaN on some backends, which would hide a diverged model.
    const picked = probs.mul(tf.oneHot(y, k)).sum(-1);
    return picked.add(1e-7).log().neg().mean() as tf.Scalar;
  });
}

export interface Prediction {
  /** Predicted class of each image, in the order of `indices`. */
  predicted: Int32Array;
  loss: number;
  accuracy: number;
}

/**
 * Runs `model` in inference mode over the images at `indices`, in batches, and returns the
 * predicted classes, mean loss and accuracy. Calls `between` after each batch (cancel checks,
 * progress); tensors are freed batch by batch.
 */
export async function predictIndices(
  model: tf.LayersModel,
  dataset: Dataset,
  indices: Int32Array,
  normalization: Normalization,
  opts: { batchSize?: number; between?: (done: number, total: number) => void | Promise<void> } = {},
): Promise<Prediction> {
  const predicted = new Int32Array(indices.length);
  let lossSum = 0;
  let correct = 0;
  let at = 0;
  for (const idx of batchIndices(indices, opts.batchSize ?? 128)) {
    const { x, y } = batchTensors(dataset, idx, { normalization });
    try {
      const [lossT, predT] = tf.tidy(() => {
        const probs = model.predict(x) as tf.Tensor2D;
        return [crossEntropy(y, probs).mul(idx.length), probs.argMax(-1)];
      });
      const [l, p] = await Promise.all([lossT.data(), predT.data()]);
      lossT.dispose();
      predT.dispose();
      lossSum += l[0];
      for (let i = 0; i < idx.length; i++) {
        predicted[at + i] = p[i];
        if (p[i] === dataset.labels[idx[i]]) correct++;
      }
    } finally {
      x.dispose();
      y.dispose();
    }
    at += idx.length;
    await opts.between?.(at, indices.length);
  }
  const n = Math.max(indices.length, 1);
  return { predicted, loss: lossSum / n, accuracy: correct / n };
}

/** Throws a NodeError naming the port when a model does not fit a dataset's images and classes. */
export function checkModelFitsDataset(
  model: { inputShape: ImageShape; model: tf.LayersModel },
  dataset: Dataset,
  port: string,
): void {
  const a = model.inputShape.join('x');
  const b = dataset.imageShape.join('x');
  if (a !== b)
    throw new NodeError(`the model takes ${a} images but the dataset has ${b}; build the model from this dataset or resize it`, { port });
  const out = model.model.outputs[0].shape;
  const units = out[out.length - 1];
  if (units !== dataset.classes.length)
    throw new NodeError(`the model outputs ${units} classes but the dataset has ${dataset.classes.length}`, { port });
}
