/**
 * Identity and same-dtype Cast for the wasm backend without copying: the output shares the
 * input's buffer (refCount + 1), as the cpu and webgl backends already do. Stock wasm copies,
 * and tfjs clones every activation it saves for the backward pass, so on the reference CNN that
 * was ~30 full-size copies per training step. Buffers are never mutated in place by tfjs kernels,
 * so sharing is safe (FusedAdam checks refCount before its in-place moment update).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernel, type KernelArgs, type TensorInfo } from './kernel-utils.ts';

function share(backend: BackendWasm, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

export function identity({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x } = inputs;
  if (x.dtype === 'string') return callKernel(backend, 'Identity', inputs, attrs);
  return share(backend, x);
}

export function cast({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x } = inputs;
  if (x.dtype === 'string' || x.dtype !== attrs.dtype) return callKernel(backend, 'Cast', inputs, attrs);
  return share(backend, x);
}
