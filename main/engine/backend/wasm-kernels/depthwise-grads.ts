/**
 * DepthwiseConv2dNative gradients for the wasm backend (stock wasm has none).
 *
 * - Input gradient: a depthwise convolution of the output gradient (zero-dilated by the forward
 *   stride when it is > 1) with the spatially reversed filter; with a channel multiplier m > 1 the
 *   m per-channel results are then summed (stock Sum over the innermost axis).
 * - Filter gradient: batch moved into the channel axis ([1,H,W,N*C]) and convolved depthwise
 *   with the transposed output gradient as filter ([Ho,Wo,N*C,m], dilated by the forward stride);
 *   the N partial filters are then summed. No im2col buffer, exactly the needed multiply-adds.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convInputGrad, flipFilter } from './conv2d-grads.ts';
import { explicitPad, heapF32, pair, type TensorInfo, view, withScratch } from './kernel-utils.ts';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];

interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: BackendWasm;
  attrs: Record<string, unknown>;
}

function depthwiseInfo(xShape: number[], filterShape: number[], attrs: Record<string, unknown>): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs.strides as number | [number, number],
    pair(attrs.dilations as number | [number, number] | undefined),
    attrs.pad as Pad,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    true,
  );
}

export function depthwiseConv2dNativeBackpropInput({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, filter } = inputs;
  const inputShape = attrs.inputShape as Shape4;
  const info = depthwiseInfo(inputShape, filter.shape, attrs);
  const [fh, fw, c, m] = filter.shape;
  return withScratch(backend, (s) => {
    const flipped = flipFilter(s, filter, false);
    if (m === 1) return s.keep(convInputGrad(s, dy, flipped, info, true));
    // Each of the C*m output channels back-propagates through its own filter tap; sum the m of a channel.
    const perTap = convInputGrad(s, dy, view(flipped, [fh, fw, c * m, 1]), info, true);
    const pixels = inputShape[0] * inputShape[1] * inputShape[2];
    const summed = s.keep(s.call('Sum', { x: view(perTap, [pixels, c, m]) }, { axis: [2], keepDims: false }));
    return view(summed, [...inputShape]);
  });
}

export function depthwiseConv2dNativeBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs;
  const filterShape = attrs.filterShape as Shape4;
  const info = depthwiseInfo(x.shape, filterShape, attrs);
  const [fh, fw, c, m] = filterShape;
  const { batchSize: n, inHeight: h, inWidth: w } = info;
  const [, ho, wo] = dy.shape;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const pb = Math.max(0, (fh - 1) * dh + (ho - 1) * sh + 1 - h - pt);
  const pr = Math.max(0, (fw - 1) * dw + (wo - 1) * sw + 1 - w - pl);
  return withScratch(backend, (s) => {
    const xT = s.call('Transpose', { x }, { perm: [1, 2, 0, 3] });
    const dyT = s.call('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
    const r = s.call(
      'DepthwiseConv2dNative',
      { x: view(xT, [1, h, w, n * c]), filter: view(dyT, [ho, wo, n * c, m]) },
      { strides: [dh, dw], dilations: [sh, sw], pad: explicitPad(pt, pb, pl, pr), dataFormat: 'NHWC' },
    );
    const [, rh, rw] = r.shape;
    const out = s.alloc([fh, fw, c, m]);
    const dst = heapF32(backend, out);
    const src = heapF32(backend, r);
    const cm = c * m;
    for (let i = 0; i < fh; i++) {
      for (let j = 0; j < fw; j++) {
        const to = (i * fw + j) * cm;
        const from = (i * rw + j) * n * cm;
        for (let k = 0; k < cm; k++) dst[to + k] = src[from + k];
        for (let b = 1; b < n; b++) {
          const fb = from + b * cm;
          for (let k = 0; k < cm; k++) dst[to + k] += src[fb + k];
        }
      }
    }
    void rh;
    return s.keep(out);
  });
}
