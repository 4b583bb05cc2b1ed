/**
 * The augmentation chain on the wasm backend (dlflow's default here): the DlflowRemap kernel
 * matches tf.image.transform and the JS fallback, and a whole chain — which on wasm hands one
 * JS buffer from step to step instead of reading each tensor back — gives exactly what the cpu
 * backend gives for the same seed, without leaking tensors or touching its input.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../../../main/engine/backend/wasm-kernels/index.ts';
import { REMAP_KERNEL } from '../../../main/engine/backend/wasm-kernels/remap.ts';
import { createRandom } from '../../../main/engine/random.ts';
import type { AugmentKind } from '../../../nodes/_lib/augment.ts';
import { AUGMENT_INFO, GEOMETRIC_OPS, PIXEL_KINDS, appendSteps, applyChain, remap } from '../../../nodes/_lib/augment.ts';

const N = 4;
const H = 18;
const W = 22;
const pixels = Float32Array.from({ length: N * H * W * 3 }, (_, i) => ((i * 37) % 101) / 100);
const matrices = Float32Array.from([
  [0.9, 0.2, -2, -0.2, 0.9, 3, 0, 0],
  [-1, 0, W - 1, 0, 1, 0, 0, 0],
  [1.3, 0, -4, 0, 1.3, -5, 0, 0],
  [1.05, 0.05, -1, 0.02, 0.95, 1, 0.003, -0.002],
].flat());
const lensK = Float32Array.from([0, 0.3, -0.3, 0.6]);
const kinds = [...GEOMETRIC_OPS, ...PIXEL_KINDS] as AugmentKind[];
const everyKind = (p: number | undefined) =>
  appendSteps([], kinds.map((kind) => ({ kind, range: { p: p ?? AUGMENT_INFO[kind].p, min: AUGMENT_INFO[kind].range[0], max: AUGMENT_INFO[kind].range[1] } })));

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** Runs `fn` on a fresh input batch and returns the output's values; checks for tensor leaks. */
function valuesOf(fn: (x: tf.Tensor4D) => tf.Tensor): Float32Array {
  const before = tf.memory().numTensors;
  const x = tf.tensor4d(pixels, [N, H, W, 3]);
  const out = fn(x);
  const v = out.dataSync().slice() as Float32Array;
  out.dispose();
  expect(Array.from(x.dataSync())).toEqual(Array.from(pixels));
  x.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return v;
}

const onCpu: Record<string, Float32Array> = {};
const runs: Record<string, (x: tf.Tensor4D) => tf.Tensor> = {
  remapReflect: (x) => remap(x, matrices, lensK, 'reflect'),
  remapConstant: (x) => remap(x, matrices, lensK, 'constant'),
  chainDefault: (x) => applyChain(x, everyKind(undefined), createRandom(9)),
  chainAll: (x) => applyChain(x, everyKind(1), createRandom(10)),
};

beforeAll(async () => {
  await tf.setBackend('cpu');
  for (const [name, fn] of Object.entries(runs)) onCpu[name] = valuesOf(fn);
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('augmentation on wasm', () => {
  it('registers the DlflowRemap kernel for wasm', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel(REMAP_KERNEL, 'wasm')).toBeDefined();
  });

  it('the remap kernel equals tf.image.transform when there is no lens distortion', () => {
    // Not 'reflect': tfjs 4.22's wasm Transform reflects differently from its cpu kernel (and
    // TensorFlow's "d c b a | a b c d"); the remap follows the cpu kernel there, which
    // augment-remap.test.ts checks and the cpu comparison below carries over to wasm.
    for (const fill of ['constant', 'nearest'] as const) {
      const ours = valuesOf((x) => remap(x, matrices, new Float32Array(N), fill));
      const theirs = valuesOf((x) => tf.tidy(() => tf.image.transform(x, tf.tensor2d(matrices, [N, 8]), 'bilinear', fill, 0)));
      expect(maxDiff(ours, theirs), fill).toBeLessThan(1e-5);
    }
  });

  it('the remap kernel and whole chains give what the cpu backend gives for the same seed', () => {
    for (const [name, fn] of Object.entries(runs)) {
      const v = valuesOf(fn);
      expect(maxDiff(v, onCpu[name]), name).toBeLessThan(1e-5);
    }
    // And the chains did change the images.
    expect(maxDiff(onCpu.chainAll, pixels)).toBeGreaterThan(0.1);
  });

  it('a chain is reproducible from the seed on wasm, also when its output feeds another chain', () => {
    const twice = (seed: number) =>
      valuesOf((x) =>
        tf.tidy(() => {
          const once = applyChain(x, everyKind(1), createRandom(seed));
          return applyChain(once, everyKind(0.5), createRandom(seed + 1));
        }),
      );
    const a = twice(3);
    expect(maxDiff(twice(3), a)).toBe(0);
    expect(maxDiff(twice(4), a)).toBeGreaterThan(0.05);
  });
});
