/**
 * Forward Conv2D / DepthwiseConv2dNative (plain and fused), padding made explicit where the
 * stock wasm kernels get it wrong:
 * - a numeric pad with dimRoundingMode 'ceil' or 'round': stock sizes the output with tfjs's
 *   rounding but XNNPACK computes with floor, leaving the extra row/column uninitialised;
 * - 'same' padding: stock hands it to XNNPACK's TensorFlow-SAME mode, which disagrees with tfjs
 *   when the stride exceeds the filter (e.g. a 1x2 filter with strides [3, 2] on 11x11).
 * The explicit padding is tfjs's own (covering the rounded-up window); other calls go straight
 * to the stock kernel.
 */
import { callKernel, convInfo, explicitPad, type KernelArgs, type TensorInfo, withScratch } from './kernel-utils.ts';
import { winogradApplies, winogradConv, winogradOptions } from './winograd.ts';

const ones = (v: unknown) => v == null || v === 1 || (Array.isArray(v) && v.every((d) => d === 1));

/**
 * Plain Conv2D: 3x3 stride-1 convolutions with enough channels run by Winograd (2.25x fewer
 * multiplies), the rest as `roundingSafeConv` does.
 */
export function conv2D(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, filter } = inputs;
  const nhwc = attrs.dataFormat == null || attrs.dataFormat === 'NHWC' || attrs.dataFormat === 'channelsLast';
  if (winogradOptions.forward && nhwc && filter.shape[0] === 3 && filter.shape[1] === 3 && ones(attrs.strides) && ones(attrs.dilations)) {
    const info = convInfo(x.shape, filter.shape, attrs, false);
    const { top, left } = info.padInfo;
    const pads: [number, number, number, number] = [top, info.outHeight + 2 - info.inHeight - top, left, info.outWidth + 2 - info.inWidth - left];
    const done = withScratch(backend, (s) => (winogradApplies(s, x, filter, pads) ? s.keep(winogradConv(s, x, filter, pads)) : undefined));
    if (done) return done;
  }
  return plainConv(args);
}

const plainConv = roundingSafeConv('Conv2D', false);
const plainFusedConv = roundingSafeConv('FusedConv2D', false);

/**
 * FusedConv2D (inference, and layers without a nonlinearity): with a linear or ReLU activation
 * and no PReLU weights, the 3x3 stride-1 case runs by Winograd with the bias and the ReLU in the
 * output transform; everything else as `roundingSafeConv` does.
 */
export function fusedConv2D(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, filter, bias, preluActivationWeights } = inputs;
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  const nhwc = attrs.dataFormat == null || attrs.dataFormat === 'NHWC' || attrs.dataFormat === 'channelsLast';
  const co = filter.shape[3];
  const biasOk = !bias || (bias.dtype === 'float32' && bias.shape.reduce((a, b) => a * b, 1) === co);
  if (
    winogradOptions.forward &&
    nhwc &&
    biasOk &&
    !preluActivationWeights &&
    (activation === 'linear' || activation === 'relu') &&
    filter.shape[0] === 3 &&
    filter.shape[1] === 3 &&
    ones(attrs.strides) &&
    ones(attrs.dilations)
  ) {
    const info = convInfo(x.shape, filter.shape, attrs, false);
    const { top, left } = info.padInfo;
    const pads: [number, number, number, number] = [top, info.outHeight + 2 - info.inHeight - top, left, info.outWidth + 2 - info.inWidth - left];
    const done = withScratch(backend, (s) =>
      winogradApplies(s, x, filter, pads) ? s.keep(winogradConv(s, x, filter, pads, { bias, relu: activation === 'relu' })) : undefined,
    );
    if (done) return done;
  }
  return plainFusedConv(args);
}

export function roundingSafeConv(name: string, depthwise: boolean) {
  return function convWithRounding({
    inputs,
    backend,
    attrs,
  }: KernelArgs): TensorInfo {
    const mode = attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined;
    const fixRounding = mode != null && typeof attrs.pad === 'number';
    const { x, filter } = inputs;
    const info = convInfo(x.shape, filter.shape, attrs, depthwise, fixRounding ? mode : undefined);
    // Stock XNNPACK writes past a zero-size output buffer (heap corruption, a later "memory access
    // out of bounds"); an empty result needs no computing.
    if (info.outShape.some((d) => d === 0)) return backend.makeOutput(info.outShape, 'float32') as TensorInfo;
    if (!fixRounding && attrs.pad !== 'same') return callKernel(backend, name, inputs, attrs);
    const { top, left } = info.padInfo;
    const bottom = Math.max(0, (info.outHeight - 1) * info.strideHeight + info.effectiveFilterHeight - info.inHeight - top);
    const right = Math.max(0, (info.outWidth - 1) * info.strideWidth + info.effectiveFilterWidth - info.inWidth - left);
    return callKernel(backend, name, inputs, { ...attrs, pad: explicitPad(top, bottom, left, right), dimRoundingMode: undefined });
  };
}
