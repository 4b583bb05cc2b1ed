/**
 * LeakyRelu for the wasm backend, and a leaner gradient for it.
 *
 * The stock wasm LeakyRelu and the Greater/Select pair its gradient uses are scalar loops, ~10x
 * slower than the SIMD Step and Multiply kernels; GAN discriminators and generators call them on
 * every activation. leakyRelu(x) = x * step(x, alpha) and its gradient dy * step(x, alpha) give
 * the same values (step(x, alpha) is 1 for x > 0, else alpha).
 */
import * as tf from '@tensorflow/tfjs';
import { type KernelArgs, type TensorInfo, withScratch } from './kernel-utils.ts';

export function leakyRelu({
  inputs,
  backend,
  attrs,
}: KernelArgs): TensorInfo {
  const { x } = inputs;
  return withScratch(backend, (s) => {
    const slope = s.call('Step', { x }, { alpha: attrs.alpha });
    return s.keep(s.call('Multiply', { a: x, b: slope }));
  });
}

/** Gradient of LeakyRelu as dy * step(x, alpha) (two SIMD kernels instead of Greater + Select + Multiply). */
export const leakyReluGrad: tf.GradConfig = {
  kernelName: 'LeakyRelu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const alpha = (attrs as unknown as { alpha: number }).alpha;
    return { x: () => tf.mul(dy as tf.Tensor, tf.step(x, alpha)) };
  },
};
