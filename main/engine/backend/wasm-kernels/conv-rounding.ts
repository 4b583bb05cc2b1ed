/**
 * Forward Conv2D / DepthwiseConv2dNative (plain and fused) with a numeric pad and
 * dimRoundingMode 'ceil' or 'round': the stock wasm kernels size the output with tfjs's rounding
 * but let XNNPACK compute with floor, leaving the extra row/column uninitialised. Turning the
 * padding into explicit padding that covers the rounded-up window fixes it; every other call
 * goes straight to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernel, explicitPad, pair, type TensorInfo } from './kernel-utils.ts';

type Shape4 = [number, number, number, number];

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
    if (mode == null || typeof attrs.pad !== 'number') return callKernel(backend, name, inputs, attrs);
    const { x, filter } = inputs;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as Shape4,
      filter.shape as Shape4,
      attrs.strides as number | [number, number],
      pair(attrs.dilations as number | [number, number] | undefined),
      attrs.pad,
      mode,
      depthwise,
    );
    const { top, left } = info.padInfo;
    const bottom = Math.max(0, (info.outHeight - 1) * info.strideHeight + info.effectiveFilterHeight - info.inHeight - top);
    const right = Math.max(0, (info.outWidth - 1) * info.strideWidth + info.effectiveFilterWidth - info.inWidth - left);
    return callKernel(backend, name, inputs, { ...attrs, pad: explicitPad(top, bottom, left, right), dimRoundingMode: undefined });
  };
}
