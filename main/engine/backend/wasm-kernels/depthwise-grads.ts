/**
 * DepthwiseConv2dNative gradients for the wasm backend (stock wasm has none).
 *
 * - Input gradient: a depthwise convolution of the output gradient (zero-dilated by the forward
 *   stride when it is > 1) with the spatially reversed filter; with a channel multiplier m > 1 the
 *   m per-channel results are then summed (stock Sum over the innermost axis).
 * - Filter gradient: per filter tap, the sum over batch and pixels of the input under that tap
 *   times dy — one SIMD multiply-accumulate pass (multiplier 1, channels % 4 == 0), otherwise a
 *   one-hot depthwise conv, a Multiply and a pooled sum.
 */
import * as tf from '@tensorflow/tfjs';
import { convInputGrad, flipFilter } from './conv2d-grads.ts';
import { convInfo, explicitPad, heapF32, isEmpty, type KernelArgs, type Shape4, type TensorInfo, view, withScratch, zeroOutput } from './kernel-utils.ts';
import { heapAddress, simdKernels, tapRange } from './simd.ts';
import { sumLeading } from './sum.ts';


function depthwiseInfo(xShape: number[], filterShape: number[], attrs: Record<string, unknown>): tf.backend_util.Conv2DInfo {
  return convInfo(xShape, filterShape, attrs, true);
}

export function depthwiseConv2dNativeBackpropInput({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, filter } = inputs;
  const inputShape = attrs.inputShape as Shape4;
  const info = depthwiseInfo(inputShape, filter.shape, attrs);
  const [fh, fw, c, m] = filter.shape;
  if (isEmpty(dy) || isEmpty(filter)) return zeroOutput(backend, inputShape);
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

/**
 * dW[t, c, q] = sum over batch and output pixels of x(pixel under tap t)[c] * dy[c*m + q]. Per
 * tap: one depthwise conv with a one-hot filter (forward stride, dilation, padding) gives the
 * input shifted under that tap, replicated m times to line up with dy; then a same-shape
 * Multiply and a pooled sum over rows. All streaming XNNPACK passes, nothing large is packed
 * (the transposed-conv formulation needs a depthwise conv with an Ho x Wo kernel and one output
 * channel per group, which XNNPACK runs slowly).
 */
export function depthwiseConv2dNativeBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs;
  const filterShape = attrs.filterShape as Shape4;
  const info = depthwiseInfo(x.shape, filterShape, attrs);
  const [fh, fw, c, m] = filterShape;
  if (isEmpty(dy) || isEmpty(x)) return zeroOutput(backend, filterShape);
  const taps = fh * fw;
  const { inHeight: h, inWidth: w } = info;
  const [nb, ho, wo] = dy.shape;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const pb = Math.max(0, (ho - 1) * sh + (fh - 1) * dh + 1 - h - pt);
  const pr = Math.max(0, (wo - 1) * sw + (fw - 1) * dw + 1 - w - pl);
  const rows = nb * ho * wo;
  const simd = m === 1 && c % 4 === 0 ? simdKernels(backend) : undefined;
  if (simd)
    return withScratch(backend, (s) => {
      // One SIMD pass per tap over the pixels it reads, accumulating straight into dW.
      const out = s.alloc([fh, fw, c, 1]);
      heapF32(backend, out).fill(0);
      const base = heapAddress(backend, out);
      for (let i = 0; i < fh; i++)
        for (let j = 0; j < fw; j++) {
          const offH = i * dh - pt;
          const offW = j * dw - pl;
          const [oh0, oh1] = tapRange(offH, sh, h, ho);
          const [ow0, ow1] = tapRange(offW, sw, w, wo);
          if (oh1 <= oh0 || ow1 <= ow0) continue;
          const acc = base + (i * fw + j) * c * 4;
          simd.tapCorrelate(heapAddress(backend, x), heapAddress(backend, dy), acc, nb, h, w, c * 4, ho, wo, sh, sw, offH, offW, oh0, oh1, ow0, ow1);
        }
      return s.keep(out);
    });
  return withScratch(backend, (s) => {
    const out = s.alloc([fh, fw, c, m]);
    for (let t = 0; t < taps; t++) {
      // A new buffer per tap: XNNPACK caches packed filters by buffer id, so never rewrite one.
      const oneHot = s.alloc([fh, fw, c, m]);
      const oh = heapF32(backend, oneHot);
      oh.fill(0);
      oh.fill(1, t * c * m, (t + 1) * c * m);
      const shifted = s.call(
        'DepthwiseConv2dNative',
        { x, filter: oneHot },
        { strides: [sh, sw], dilations: [dh, dw], pad: explicitPad(pt, pb, pl, pr), dataFormat: 'NHWC' },
      );
      const prod = s.call('Multiply', { a: view(shifted, [rows, c * m]), b: view(dy, [rows, c * m]) });
      s.free(shifted);
      s.free(oneHot);
      const summed = s.track(sumLeading(backend, prod, nb));
      s.free(prod);
      heapF32(backend, out).set(heapF32(backend, summed), t * c * m);
      s.free(summed);
    }
    return s.keep(out);
  });
}
