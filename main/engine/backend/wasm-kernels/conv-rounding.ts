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
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernel, convInfo, explicitPad, type TensorInfo } from './kernel-utils.ts';

export function roundingSafeConv(name: string, depthwise: boolean) {
  return function convWithRounding({
    inputs,
    backend,
    attrs,
  }: {
    inputs: Record<string, TensorInfo>;
    backend: BackendWasm;
    attrs: Record<string, unknown>;
  }): TensorInfo {
    const mode = attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined;
    const fixRounding = mode != null && typeof attrs.pad === 'number';
    if (!fixRounding && attrs.pad !== 'same') return callKernel(backend, name, inputs, attrs);
    const { x, filter } = inputs;
    const info = convInfo(x.shape, filter.shape, attrs, depthwise, fixRounding ? mode : undefined);
    const { top, left } = info.padInfo;
    const bottom = Math.max(0, (info.outHeight - 1) * info.strideHeight + info.effectiveFilterHeight - info.inHeight - top);
    const right = Math.max(0, (info.outWidth - 1) * info.strideWidth + info.effectiveFilterWidth - info.inWidth - left);
    return callKernel(backend, name, inputs, { ...attrs, pad: explicitPad(top, bottom, left, right), dimRoundingMode: undefined });
  };
}
