/**
 * Sum over leading axes (a bias gradient: sum of dy over batch and pixels) for the wasm backend.
 * The stock kernel transposes the whole tensor to make the reduced axes innermost; XNNPACK's
 * average pooling reduces over "pixels" per channel in one pass, so view the tensor as
 * [lead, rest, 1, C], average-pool all `rest` rows, scale back up, and add up the `lead` rows.
 * Other reductions go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernel, heapF32, type KernelArgs, type TensorInfo, view, withScratch } from './kernel-utils.ts';

const MIN_SIZE = 1 << 14;

export function sum({
  inputs,
  backend,
  attrs,
}: KernelArgs): TensorInfo {
  const { x } = inputs;
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  const total = tf.util.sizeFromShape(x.shape);
  if (!leading || x.dtype !== 'float32' || total < MIN_SIZE) return callKernel(backend, 'Sum', inputs, attrs);
  const kept = x.shape.slice(axes.length);
  const outShape = attrs.keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : kept;
  const c = tf.util.sizeFromShape(kept);
  const out = sumLeading(backend, view(x, [total / c, c]), axes.length > 1 ? x.shape[0] : 1);
  return view(out, outShape);
}

/**
 * Sums x [rows, ...rest] over its first axis (after flattening `rest`) into a new [size(rest)]
 * buffer the caller owns. `lead` > 1 pools that many row blocks separately (then adds them up).
 */
export function sumLeading(backend: BackendWasm, x: TensorInfo, leadHint = 1): TensorInfo {
  const total = tf.util.sizeFromShape(x.shape);
  const c = total / x.shape[0];
  const reduced = x.shape[0];
  const kept = [c];
  // Split the reduced rows into `lead` pooled windows of `rest` rows each (lead <= 256 keeps the
  // final JS pass tiny, rest large keeps XNNPACK busy).
  let lead = leadHint;
  if (lead > 256 || reduced / lead < 4) lead = 1;
  const rest = reduced / lead;
  return withScratch(backend, (s) => {
    const pooled = s.call(
      'AvgPool',
      { x: view(x, [lead, rest, 1, c]) },
      { filterSize: [rest, 1], strides: [rest, 1], pad: 'valid', dimRoundingMode: undefined },
    );
    const out = s.alloc([c]);
    const o = heapF32(backend, out);
    const p = heapF32(backend, pooled);
    for (let k = 0; k < c; k++) o[k] = p[k] * rest;
    for (let b = 1; b < lead; b++) {
      const base = b * c;
      for (let k = 0; k < c; k++) o[k] += p[base + k] * rest;
    }
    s.keep(out);
    return view(out, kept);
  });
}
