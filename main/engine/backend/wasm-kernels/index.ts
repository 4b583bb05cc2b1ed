// Backend layer: may import @tensorflow/* and sibling engine modules only.
/**
 * Training kernels for the tfjs wasm backend (tfjs 4.22.0 exactly: they use backend internals).
 *
 * - Missing in stock wasm: Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter/Input.
 * - Faster: Conv2D and FusedConv2D 3x3 stride 1 (Winograd), Transpose (SIMD blocks), Conv2DBackpropInput
 *   (also conv2dTranspose's forward; sub-pixel for strides > 1),
 *   BatchMatMul with transposes, Sum over leading axes (bias gradients), LeakyRelu (and its
 *   gradient), ReLU's gradient (one pass), Identity/Cast without copies.
 * - Correct: MaxPoolGrad and MaxPoolWithArgmax (stock start the max at FLT_MIN), forward convs
 *   with dimRoundingMode 'ceil'/'round' (stock leave the extra row uninitialised), and empty
 *   tensors in convolutions, pooling and products (stock XNNPACK writes past empty outputs).
 * - FusedAdam: Adam with one fused update per variable (exported optimizer).
 *
 * Built by composing stock XNNPACK kernels on TensorInfos, or loops over the wasm heap where
 * that is fastest; every intermediate is freed in a finally. No tf ops inside kernels, so no
 * engine bookkeeping leaks.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { batchMatMul } from './batch-mat-mul.ts';
import { conv2D, fusedConv2D, roundingSafeConv } from './conv-rounding.ts';
import { conv2DBackpropFilter, conv2DBackpropInput } from './conv2d-grads.ts';
import { depthwiseConv2dNativeBackpropFilter, depthwiseConv2dNativeBackpropInput } from './depthwise-grads.ts';
import { emptySafeAvgPoolGrad, emptySafePool } from './empty-safe.ts';
import { stockKernel } from './kernel-utils.ts';
import { leakyRelu, leakyReluGrad } from './leaky-relu.ts';
import { maxPoolGrad, maxPoolWithArgmax } from './max-pool-grad.ts';
import { IMAGE_EDIT_KERNEL, imageEdit } from './image-edit.ts';
import { REMAP_KERNEL, remap } from './remap.ts';
import { RELU_GRAD_KERNEL, reluGrad, reluGradKernel } from './relu-grad.ts';
import { cast, identity } from './share.ts';
import { sum } from './sum.ts';
import { transposeKernel } from './transpose.ts';

export { FusedAdam } from './fused-adam.ts';

type AnyKernelFunc = (args: any) => tf.TensorInfo | tf.TensorInfo[];

const OURS: Record<string, AnyKernelFunc> = {
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseConv2dNativeBackpropInput,
  MaxPoolGrad: maxPoolGrad,
  MaxPool: emptySafePool('MaxPool'),
  AvgPool: emptySafePool('AvgPool'),
  AvgPoolGrad: emptySafeAvgPoolGrad,
  MaxPoolWithArgmax: maxPoolWithArgmax,
  BatchMatMul: batchMatMul,
  Sum: sum,
  Transpose: transposeKernel,
  Identity: identity,
  Cast: cast,
  LeakyRelu: leakyRelu,
  Conv2D: conv2D,
  FusedConv2D: fusedConv2D,
  DepthwiseConv2dNative: roundingSafeConv('DepthwiseConv2dNative', true),
  FusedDepthwiseConv2D: roundingSafeConv('FusedDepthwiseConv2D', true),
  [REMAP_KERNEL]: remap,
  [IMAGE_EDIT_KERNEL]: imageEdit,
  [RELU_GRAD_KERNEL]: reluGradKernel,
};

/** Stock kernels our kernels call; captured before any replacement. */
const USED_STOCK = ['Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D', 'Transpose', 'Sum', 'BatchMatMul', 'Reshape', 'AvgPool', 'MaxPool', 'AvgPoolGrad', 'Identity', 'Cast', 'Step', 'Multiply'];

/**
 * Registers the wasm training kernels (idempotent). Call after `tf.setBackend('wasm')`; calling
 * earlier also works (stock setup functions are kept). Throws if the wasm backend package is
 * not the version these kernels were written against.
 */
export function registerWasmTrainingKernels(): void {
  const version = (tf.version as Record<string, string>)['tfjs-core'];
  if (version !== '4.22.0')
    throw new Error(`wasm training kernels rely on tfjs 4.22.0 backend internals; found tfjs-core ${version}`);
  for (const name of USED_STOCK) stockKernel(name);
  // Same values as tfjs's LeakyRelu gradient (except for NaN inputs), via SIMD kernels on wasm.
  if (tf.getGradient('LeakyRelu') !== leakyReluGrad) tf.registerGradient(leakyReluGrad);
  // ReLU's gradient in one SIMD pass on wasm (tfjs's formula elsewhere).
  if (tf.getGradient('Relu') !== reluGrad) tf.registerGradient(reluGrad);
  for (const [name, kernelFunc] of Object.entries(OURS)) {
    const current = tf.getKernel(name, 'wasm');
    if (current?.kernelFunc === (kernelFunc as unknown)) continue;
    const setupFunc = current?.setupFunc;
    if (current) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
      // Keeps the replaced kernel's wasm bindings set up if the backend initialises later.
      ...(setupFunc ? { setupFunc } : {}),
    });
  }
}
