/**
 * Stock wasm kernels that corrupt the heap on empty tensors: XNNPACK's pooling writes past a
 * zero-size output buffer (a later, unrelated op then fails with "memory access out of bounds"),
 * and its fully-connected operator rejects an empty inner dimension, leaving the output
 * uninitialised. An empty result needs no computing: these wrappers return it (zeros where the
 * sum is empty) and hand every other call to the stock kernel. Empty tensors arise from a model
 * that pools a small image below 1x1, or a batch of zero examples.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernel, isEmpty, type KernelArgs, poolInfo, type TensorInfo, zeroOutput } from './kernel-utils.ts';

/** MaxPool / AvgPool: the stock kernel unless the output is empty. */
export function emptySafePool(name: 'MaxPool' | 'AvgPool') {
  return function pool({ inputs, backend, attrs }: KernelArgs): TensorInfo {
    const { x } = inputs;
    const info = poolInfo(x.shape, attrs);
    if (isEmpty(x) || info.outShape.some((d) => d === 0)) return backend.makeOutput(info.outShape, x.dtype) as TensorInfo;
    return callKernel(backend, name, inputs, attrs);
  };
}

/** AvgPoolGrad: zeros (the input's shape) when the pooled output was empty. */
export function emptySafeAvgPoolGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, input } = inputs;
  if (isEmpty(dy) || isEmpty(input)) return zeroOutput(backend, [...input.shape]);
  return callKernel(backend, 'AvgPoolGrad', inputs, attrs);
}

/** An [.., m, n] product with an empty inner dimension k is all zeros; with m or n = 0, empty. */
export function emptyProduct(backend: BackendWasm, outShape: number[], k: number): TensorInfo | undefined {
  if (outShape.some((d) => d === 0)) return backend.makeOutput(outShape, 'float32') as TensorInfo;
  if (k === 0) return zeroOutput(backend, outShape);
  return undefined;
}
