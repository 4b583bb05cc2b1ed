/**
 * ReLU's gradient on wasm in one SIMD pass. tfjs computes it as dy * cast(step(x)): three
 * kernels and two full-size temporaries per ReLU layer per step, each a pass over memory (the
 * reference CNN's first ReLU sees 1.6M values). The registered gradient keeps tfjs's formula on
 * every other backend and for non-float32 inputs.
 */
import * as tf from '@tensorflow/tfjs';
import { heapAddress, heapF32, type KernelArgs, type TensorInfo } from './kernel-utils.ts';
import { simdKernels } from './simd.ts';

export const RELU_GRAD_KERNEL = 'DlflowReluGrad';

/** dx = x > 0 ? dy : 0 (NaN x gives 0, where tfjs's formula gives NaN). */
export function reluGradKernel({ inputs, backend }: KernelArgs): TensorInfo {
  const { dy, x } = inputs;
  const out = backend.makeOutput([...x.shape], 'float32') as TensorInfo;
  const n = x.shape.reduce((a, b) => a * b, 1);
  if (n === 0) return out;
  const simd = simdKernels(backend);
  const vectorised = simd ? n & ~3 : 0;
  if (simd && vectorised > 0) simd.reluGrad(heapAddress(backend, x), heapAddress(backend, dy), heapAddress(backend, out), vectorised * 4);
  if (vectorised < n) {
    const xs = heapF32(backend, x);
    const ds = heapF32(backend, dy);
    const os = heapF32(backend, out);
    for (let i = vectorised; i < n; i++) os[i] = xs[i] > 0 ? ds[i] : 0;
  }
  return out;
}

export const reluGrad: tf.GradConfig = {
  kernelName: 'Relu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    const grad = dy as tf.Tensor;
    if (tf.getBackend() === 'wasm' && x.dtype === 'float32' && grad.dtype === 'float32' && tf.getKernel(RELU_GRAD_KERNEL, 'wasm'))
      return { x: () => tf.engine().runKernel(RELU_GRAD_KERNEL, { dy: grad, x }) as tf.Tensor };
    return { x: () => tf.mul(grad, tf.cast(tf.step(x), 'float32')) };
  },
};
