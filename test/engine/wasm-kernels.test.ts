// Numerics guard for the wasm training kernels: gradients on wasm must match the cpu backend,
// and training on wasm must not leak tensors or wasm buffers.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { FusedAdam, registerWasmTrainingKernels } from '../../main/engine/backend/wasm-kernels/index.ts';
import { winogradCalls, winogradOptions } from '../../main/engine/backend/wasm-kernels/winograd.ts';
import { values } from './_values.ts';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Runs `fn` on a backend with fresh tensors built from `inputs`; returns plain arrays. */
async function on(
  backend: 'wasm' | 'cpu',
  inputs: { shape: number[]; data: Float32Array }[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => fn(...inputs.map((i) => tf.tensor(i.data, i.shape))).map((t) => t.dataSync() as Float32Array));
}

/** Gradients of sum(f(xs) * R) (R random, so dy is not uniform) on wasm and cpu must agree. */
async function expectSameGrads(
  label: string,
  shapes: number[][],
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  seed = 1,
  reference: (...xs: tf.Tensor[]) => tf.Tensor = f,
): Promise<void> {
  const inputs = shapes.map((shape, i) => ({ shape, data: values(size(shape), seed * 97 + i) }));
  const withGrads =
    (g: (...xs: tf.Tensor[]) => tf.Tensor) =>
    (...xs: tf.Tensor[]) => {
      const y = g(...xs);
      const r = tf.tensor(values(y.size, seed + 1000), y.shape);
      const grads = tf.grads((...ys: tf.Tensor[]) => g(...ys).mul(r).sum())(xs);
      return [y, ...grads];
    };
  const w = await on('wasm', inputs, withGrads(f));
  const c = await on('cpu', inputs, withGrads(reference));
  const names = ['output', ...shapes.map((_, i) => `grad ${i}`)];
  for (let k = 0; k < c.length; k++) {
    expect(w[k].length, `${label} ${names[k]} size`).toBe(c[k].length);
    let err = 0;
    let scale = 1;
    for (let i = 0; i < c[k].length; i++) {
      err = Math.max(err, Math.abs(w[k][i] - c[k][i]));
      scale = Math.max(scale, Math.abs(c[k][i]));
    }
    expect(err / scale, `${label} ${names[k]}: max abs err ${err} (scale ${scale})`).toBeLessThanOrEqual(1e-4);
  }
}

/**
 * Σ over images and output pixels of term(input pixel, output pixel) for filter tap (i, j): the
 * direct definition of a filter gradient, for checking kernels the cpu backend cannot (dilations).
 */
function tapSum(
  g: { n: number; h: number; w: number; ho: number; wo: number; stride: number; d: number; pad: number },
  i: number,
  j: number,
  term: (xPixel: number, dyPixel: number) => number,
): number {
  let sum = 0;
  for (let b = 0; b < g.n; b++)
    for (let oh = 0; oh < g.ho; oh++)
      for (let ow = 0; ow < g.wo; ow++) {
        const ih = oh * g.stride + i * g.d - g.pad;
        const iw = ow * g.stride + j * g.d - g.pad;
        if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) continue;
        sum += term((b * g.h + ih) * g.w + iw, (b * g.ho + oh) * g.wo + ow);
      }
  return sum;
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
  registerWasmTrainingKernels(); // idempotent
  await tf.setBackend('cpu');
});

describe('wasm training kernels match the cpu backend', () => {
  const convCases: [number[], number[], number | [number, number], Pad, ('floor' | 'round' | 'ceil')?][] = [
    [[2, 7, 7, 3], [3, 3, 3, 4], 1, 'same'],
    [[2, 8, 8, 3], [3, 3, 3, 4], 2, 'same'],
    [[2, 9, 9, 3], [3, 3, 3, 4], 2, 'valid'],
    [[1, 6, 5, 2], [2, 3, 2, 3], 1, 'valid'],
    [[3, 10, 10, 1], [5, 5, 1, 2], 3, 'same'],
    [[2, 7, 9, 2], [3, 3, 2, 5], [2, 1], 'same'],
    [[2, 7, 7, 2], [3, 3, 2, 3], 1, [[0, 0], [1, 2], [2, 0], [0, 0]]],
    [[2, 8, 8, 2], [3, 3, 2, 3], 2, 1, 'ceil'],
    [[2, 8, 8, 2], [3, 3, 2, 3], 2, 1, 'floor'],
    [[4, 6, 6, 16], [1, 1, 16, 8], 1, 'valid'],
    [[2, 12, 12, 4], [4, 4, 4, 3], 4, 'valid'],
    // few input taps (ci*fh*fw < co): the im2col filter-gradient path
    [[2, 8, 8, 1], [3, 3, 1, 12], 1, 'same'],
    [[2, 9, 9, 2], [2, 2, 2, 9], 2, 'valid'],
    [[2, 9, 9, 1], [3, 3, 1, 10], 2, 'same'],
    // ci <= 4, co % 4 == 0: the SIMD conv filter-gradient path, with odd padding and rounding
    [[2, 8, 8, 2], [3, 3, 2, 4], 2, 1, 'ceil'],
    [[2, 7, 6, 3], [3, 2, 3, 8], 1, [[0, 0], [2, 1], [0, 1], [0, 0]]],
    // stride 1, ci <= 4: one pass over dy (3x3: the nine taps in registers)
    [[2, 9, 9, 1], [5, 5, 1, 8], 1, 'valid'],
    [[2, 9, 8, 4], [3, 3, 4, 8], 1, 'valid'],
    [[3, 28, 28, 1], [3, 3, 1, 32], 1, 'same'],
    // ... and strided (stems): 3x3 and 5x5 / 7x7 filters, stride 2 and 3
    [[2, 16, 16, 3], [3, 3, 3, 16], 2, 'same'],
    [[2, 11, 11, 1], [5, 5, 1, 8], 2, 'same'],
    [[2, 13, 12, 3], [7, 7, 3, 8], [2, 3], 'valid'],
    // channels % 4 == 0 (multiplier 1: the SIMD depthwise filter-gradient path)
    [[2, 9, 9, 8], [3, 3, 8, 4], 2, 'same'],
    [[2, 7, 7, 4], [3, 3, 4, 4], 1, 'same'],
    // stride larger than the filter: some output phases get no taps at all
    [[2, 10, 10, 2], [2, 2, 2, 4], 3, 'valid'],
    [[1, 11, 11, 3], [1, 2, 3, 5], [3, 2], 'same'],
    // stride 1, output the input's size, ci > 4: the shifted-planes im2col filter-gradient path,
    // with even filters, asymmetric and explicit padding, a filter wider than the image
    [[2, 6, 7, 6], [3, 3, 6, 5], 1, 'same'],
    [[2, 7, 6, 5], [3, 3, 5, 4], 1, [[0, 0], [2, 0], [0, 2], [0, 0]]],
    [[2, 5, 6, 8], [2, 2, 8, 6], 1, 'same'],
    [[1, 3, 4, 5], [5, 5, 5, 3], 1, 'same'],
    [[2, 14, 14, 32], [3, 3, 32, 64], 1, 'same'],
    // 3x3 stride 1 where Winograd F(2x2,3x3) runs (channels % 4 == 0, >= 16, >= 64 tiles):
    // forward and input gradient with odd sizes (partial tiles), valid and asymmetric explicit
    // padding; the filter gradient (ci * co >= 2048) with an odd-sized dy; small cases that take
    // the direct paths (a 1x1 image, an empty output)
    [[4, 7, 9, 16], [3, 3, 16, 32], 1, 'same'],
    [[4, 10, 11, 16], [3, 3, 16, 32], 1, 'valid'],
    [[6, 8, 7, 32], [3, 3, 32, 16], 1, [[0, 0], [2, 0], [0, 1], [0, 0]]],
    [[3, 7, 9, 32], [3, 3, 32, 64], 1, 'same'],
    [[4, 9, 9, 16], [3, 3, 16, 32], 1, 1, 'ceil'],
    [[2, 1, 1, 8], [3, 3, 8, 8], 1, 'same'],
    [[1, 2, 3, 8], [3, 3, 8, 8], 1, 'valid'],
    // pointwise convs (MobileNet): a plain product, packing the smaller operand
    [[2, 5, 5, 4], [1, 1, 4, 9], 1, 'same'],
    [[2, 5, 5, 9], [1, 1, 9, 4], 1, 'valid'],
  ];

  it('conv2d: input and filter gradients', async () => {
    const before = { ...winogradCalls };
    for (const [xs, fs, stride, pad, rounding] of convCases) {
      // tfjs's conv2d gradient drops dimRoundingMode for the input gradient, so the cpu kernel
      // ignores the rounded-up output row; the reference is the same conv with explicit padding.
      const s = typeof stride === 'number' ? [stride, stride] : stride;
      const extra = (i: number) => (rounding === 'ceil' ? Math.ceil : Math.floor)((xs[i] + 2 * (pad as number) - fs[i - 1]) / s[i - 1]) * s[i - 1] + fs[i - 1] - xs[i] - (pad as number);
      const refPad: Pad = rounding
        ? [[0, 0], [pad as number, extra(1)], [pad as number, extra(2)], [0, 0]]
        : pad;
      await expectSameGrads(
        `conv2d x${xs} f${fs} s${stride} ${JSON.stringify(pad)} ${rounding ?? ''}`,
        [xs, fs],
        (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad, 'NHWC', 1, rounding),
        1,
        (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, refPad),
      );
    }
    // The Winograd cases above did run Winograd (forward + input gradient, and filter gradients).
    expect(winogradCalls.conv - before.conv).toBeGreaterThanOrEqual(10);
    expect(winogradCalls.filterGrad - before.filterGrad).toBeGreaterThanOrEqual(2);
  });

  it('Winograd in chunks of images when the temporaries would pass the cap, direct conv when one image does', async () => {
    const saved = winogradOptions.maxTempFloats;
    try {
      // [8,6,6,32] → 64: 3x3 tiles of 16 elements x (32 + 64) channels = 13,824 floats per image.
      winogradOptions.maxTempFloats = 2 * 13824; // chunks of 2 images, for the conv and its filter gradient
      await expectSameGrads('conv2d in chunks', [[8, 6, 6, 32], [3, 3, 32, 64]], (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'));
      winogradOptions.maxTempFloats = 1000; // not even one image: the direct paths
      await expectSameGrads('conv2d past the cap', [[8, 6, 6, 32], [3, 3, 32, 64]], (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'));
    } finally {
      winogradOptions.maxTempFloats = saved;
    }
  });

  it('fused conv2d (bias + activation; Winograd with the epilogue in its output transform for linear/relu)', async () => {
    const cases: [number[], number[], Pad, string, number[]][] = [
      [[4, 9, 7, 16], [3, 3, 16, 32], 'same', 'relu', [32]],
      [[2, 14, 14, 32], [3, 3, 32, 64], 'same', 'linear', [64]],
      [[4, 10, 10, 16], [3, 3, 16, 32], 'valid', 'relu', [1, 1, 1, 32]],
      [[2, 6, 6, 8], [3, 3, 8, 8], 'same', 'elu', [8]], // other activations: the stock kernel
      [[4, 8, 8, 16], [3, 3, 16, 32], 'same', 'relu', []], // no bias
    ];
    for (const [xs, fs, pad, activation, bs] of cases) {
      const shapes = bs.length ? [xs, fs, bs] : [xs, fs];
      await expectSameGrads(`fused conv2d x${xs} f${fs} ${pad} ${activation} bias ${bs}`, shapes, (x, f, b) =>
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad, bias: b, activation: activation as 'relu' }),
      );
    }
  });

  it('depthwiseConv2d (channel multiplier 1 and 2): input and filter gradients', async () => {
    for (const [xs, fs, stride, pad, rounding] of convCases) {
      for (const multiplier of [1, 2]) {
        const filter = [fs[0], fs[1], xs[3], multiplier];
        await expectSameGrads(`depthwise x${xs} f${filter} s${stride} ${JSON.stringify(pad)}`, [xs, filter], (x, f) =>
          tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad, 'NHWC', 1, rounding),
        );
      }
    }
  });

  it('conv2dTranspose: forward and gradients', async () => {
    const cases: [number[], number[], number[], number, 'same' | 'valid'][] = [
      [[2, 4, 4, 3], [3, 3, 2, 3], [2, 8, 8, 2], 2, 'same'],
      [[2, 5, 5, 4], [4, 4, 3, 4], [2, 10, 10, 3], 2, 'same'],
      [[2, 3, 3, 4], [4, 4, 3, 4], [2, 8, 8, 3], 2, 'valid'],
      [[1, 6, 6, 2], [3, 3, 2, 2], [1, 6, 6, 2], 1, 'same'],
      [[2, 3, 4, 2], [5, 5, 3, 2], [2, 9, 12, 3], 3, 'same'],
    ];
    for (const [xs, fs, outShape, stride, pad] of cases) {
      await expectSameGrads(`conv2dTranspose x${xs} f${fs} s${stride} ${pad}`, [xs, fs], (x, f) =>
        tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, outShape as [number, number, number, number], stride, pad),
      );
    }
  });

  it('maxPool gradients, including windows whose values are all negative', async () => {
    const cases: [number[], number, number, 'same' | 'valid'][] = [
      [[2, 8, 8, 3], 2, 2, 'valid'],
      [[2, 7, 7, 3], 2, 2, 'same'],
      [[2, 9, 9, 5], 3, 2, 'valid'],
      [[2, 9, 9, 5], 3, 2, 'same'],
      [[1, 6, 6, 17], 3, 1, 'same'],
      [[2, 10, 6, 2], 2, 3, 'valid'],
      // channels % 4 == 0: the SIMD 2x2 path
      [[2, 8, 8, 4], 2, 2, 'valid'],
      [[3, 6, 10, 8], 2, 2, 'same'],
    ];
    for (const [xs, filter, stride, pad] of cases) {
      const pool = (x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, filter, stride, pad);
      await expectSameGrads(`maxPool x${xs} f${filter} s${stride} ${pad}`, [xs], pool);
      // All values <= 0: the stock wasm kernel (running max starting at FLT_MIN) gets these wrong.
      await expectSameGrads(`maxPool negative x${xs} f${filter} s${stride} ${pad}`, [xs], (x) => pool(x.abs().neg().sub(0.1)));
    }
  });

  it('maxPoolWithArgmax, including all-negative windows', async () => {
    for (const [xs, filter, stride, pad] of [
      [[2, 7, 7, 3], 2, 2, 'same'],
      [[2, 9, 9, 5], 3, 2, 'valid'],
    ] as [number[], number, number, 'same' | 'valid'][]) {
      for (const includeBatchInIndex of [false, true]) {
        const data = values(size(xs), 9).map((v) => -Math.abs(v) - 0.1);
        const run = async (backend: 'wasm' | 'cpu') => {
          await tf.setBackend(backend);
          return tf.tidy(() => {
            const { result, indexes } = tf.maxPoolWithArgmax(tf.tensor4d(data, xs as [number, number, number, number]), filter, stride, pad, includeBatchInIndex);
            return [Array.from(result.dataSync()), Array.from(indexes.dataSync())];
          });
        };
        expect(await run('wasm'), `maxPoolWithArgmax x${xs} ${pad} batch=${includeBatchInIndex}`).toEqual(await run('cpu'));
      }
    }
  });

  it('matMul with every transpose combination, batched', async () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[5, 7], [7, 3], false, false],
      [[7, 5], [7, 3], true, false],
      [[5, 7], [3, 7], false, true],
      [[7, 5], [3, 7], true, true],
      [[2, 7, 5], [2, 3, 7], true, true],
      [[3, 4, 6], [3, 4, 2], true, false],
      [[3, 6, 4], [3, 5, 4], false, true],
      [[64, 300], [64, 10], true, false],
      // the SIMD GEMM (4x8 tiles) with ragged rows and columns, transposes, batches, broadcast
      [[30, 37], [37, 43], false, false],
      [[37, 30], [37, 43], true, false],
      [[30, 37], [43, 37], false, true],
      [[37, 30], [43, 37], true, true],
      [[3, 12, 20], [3, 20, 16], false, false],
      [[64, 3136], [3136, 128], false, false],
    ];
    for (const [as, bs, ta, tb] of cases) {
      await expectSameGrads(`matMul a${as} b${bs} tA=${ta} tB=${tb}`, [as, bs], (a, b) => tf.matMul(a, b, ta, tb));
    }
    // A broadcast batch (tfjs has no gradient for it): the forward product only.
    const inputs = [
      { shape: [3, 12, 20], data: values(720, 41) },
      { shape: [1, 20, 16], data: values(320, 42) },
    ];
    const [w] = await on('wasm', inputs, (a, b) => [tf.matMul(a, b)]);
    const [c] = await on('cpu', inputs, (a, b) => [tf.matMul(a, b)]);
    let err = 0;
    for (let i = 0; i < c.length; i++) err = Math.max(err, Math.abs(w[i] - c[i]));
    expect(w.length).toBe(c.length);
    expect(err).toBeLessThan(1e-4);
  });

  it('transpose: SIMD group swaps (ragged edges, batches, int32) and other permutations', async () => {
    const cases: [number[], number[]][] = [
      [[37, 19], [1, 0]],
      [[64, 3136], [1, 0]],
      [[3, 8, 12], [0, 2, 1]],
      [[2, 5, 6, 7], [3, 0, 1, 2]],
      [[4, 9, 10], [1, 2, 0]],
      [[2, 3, 4, 5], [0, 1, 3, 2]],
      [[3, 17, 2, 16], [0, 2, 3, 1]],
      [[2, 3, 4, 5], [1, 0, 3, 2]], // not a group swap: the stock kernel
      [[2, 3], [1, 0]], // too small for SIMD
    ];
    for (const [shape, perm] of cases) {
      const data = values(size(shape), shape.length * 31 + perm[0]);
      const [w] = await on('wasm', [{ shape, data }], (x) => [tf.transpose(x, perm)]);
      const [c] = await on('cpu', [{ shape, data }], (x) => [tf.transpose(x, perm)]);
      expect(Array.from(w), `transpose ${shape} by ${perm}`).toEqual(Array.from(c));
      await tf.setBackend('wasm');
      const ints = tf.tidy(() => tf.transpose(tf.tensor(Int32Array.from(data, (v) => Math.round(v * 1e6)), shape, 'int32'), perm).dataSync());
      await tf.setBackend('cpu');
      const intsRef = tf.tidy(() => tf.transpose(tf.tensor(Int32Array.from(data, (v) => Math.round(v * 1e6)), shape, 'int32'), perm).dataSync());
      expect(Array.from(ints), `int32 transpose ${shape} by ${perm}`).toEqual(Array.from(intsRef));
    }
  });

  it('sum over leading axes (bias gradients) and other reductions', async () => {
    const cases: [number[], number[], boolean][] = [
      [[8, 12, 12, 16], [0, 1, 2], false],
      [[8, 12, 12, 16], [0, 1, 2], true],
      [[300, 70], [0], false],
      [[2, 3000, 9], [0, 1], false],
      [[8, 12, 12, 16], [1, 2], false],
      [[8, 12, 12, 16], [3], true],
    ];
    for (const [shape, axis, keepDims] of cases)
      await expectSameGrads(`sum x${shape} axis ${axis} keepDims=${keepDims}`, [shape], (x) => tf.sum(x.mul(x), axis, keepDims));
  });

  it('relu gradient (one SIMD pass, ragged tail) and relu inside a conv layer', async () => {
    for (const shape of [[7, 13], [2, 5, 5, 8], [3]])
      await expectSameGrads(`relu ${shape}`, [shape], (x) => tf.relu(x));
    await expectSameGrads('conv+relu', [[2, 6, 6, 8], [3, 3, 8, 8]], (x, f) => tf.relu(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same')));
  });

  it('leakyRelu forward and gradient', async () => {
    for (const alpha of [0.2, 0.01])
      await expectSameGrads(`leakyRelu alpha ${alpha}`, [[4, 5, 6, 7]], (x) => tf.leakyRelu(x, alpha));
  });

  it('depthwise filter gradient kernel with dilations (the op only allows 1; cpu ignores them)', async () => {
    for (const [c, m] of [
      [3, 2],
      [4, 1],
    ]) {
      const [n, h, w, f, d, pad] = [2, 9, 9, 3, 2, 2];
      const x = values(n * h * w * c, 3);
      const dy = values(n * h * w * c * m, 4);
      await tf.setBackend('wasm');
      const got = tf.tidy(() => {
        const out = tf.engine().runKernel(
          'DepthwiseConv2dNativeBackpropFilter',
          { x: tf.tensor(x, [n, h, w, c]), dy: tf.tensor(dy, [n, h, w, c * m]) },
          { strides: 1, dilations: d, pad: 'same', filterShape: [f, f, c, m] },
        ) as tf.Tensor;
        return out.dataSync() as Float32Array;
      });
      await tf.setBackend('cpu');
      // Direct sum: dW[i,j,k,q] = sum over n, output pixel of x(pixel + tap * dilation - pad)[k] * dy[k*m+q].
      const geometry = { n, h, w, ho: h, wo: w, stride: 1, d, pad };
      let err = 0;
      for (let i = 0; i < f; i++)
        for (let j = 0; j < f; j++)
          for (let k = 0; k < c; k++)
            for (let q = 0; q < m; q++) {
              const want = tapSum(geometry, i, j, (xp, dp) => x[xp * c + k] * dy[dp * c * m + k * m + q]);
              err = Math.max(err, Math.abs(want - got[((i * f + j) * c + k) * m + q]));
            }
      expect(err, `channels ${c} multiplier ${m}`).toBeLessThan(1e-4);
    }
  });

  it('conv2d filter gradient kernel with dilations (few input channels: the one-pass kernel; more: the generic paths)', async () => {
    for (const [c, co, f, d, stride] of [
      [1, 8, 3, 2, 1],
      [3, 8, 5, 2, 1],
      [2, 4, 3, 3, 1],
      [6, 5, 3, 2, 1],
    ]) {
      const [n, h, w] = [2, 11, 10];
      const pad = ((f - 1) * d) >> 1;
      const ho = Math.floor((h + 2 * pad - (f - 1) * d - 1) / stride) + 1;
      const wo = Math.floor((w + 2 * pad - (f - 1) * d - 1) / stride) + 1;
      const x = values(n * h * w * c, 5);
      const dy = values(n * ho * wo * co, 6);
      await tf.setBackend('wasm');
      const got = tf.tidy(() => {
        const out = tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x: tf.tensor(x, [n, h, w, c]), dy: tf.tensor(dy, [n, ho, wo, co]) },
          { strides: stride, dilations: d, pad, filterShape: [f, f, c, co] },
        ) as tf.Tensor;
        return out.dataSync() as Float32Array;
      });
      await tf.setBackend('cpu');
      const geometry = { n, h, w, ho, wo, stride, d, pad };
      let err = 0;
      for (let i = 0; i < f; i++)
        for (let j = 0; j < f; j++)
          for (let k = 0; k < c; k++)
            for (let q = 0; q < co; q++) {
              const want = tapSum(geometry, i, j, (xp, dp) => x[xp * c + k] * dy[dp * co + q]);
              err = Math.max(err, Math.abs(want - got[((i * f + j) * c + k) * co + q]));
            }
      expect(err, `${c} -> ${co}, ${f}x${f} dilation ${d}`).toBeLessThan(1e-4);
    }
  });

  it('empty tensors (pooled below 1x1, zero examples, an empty inner dimension) give what cpu gives and leave the heap intact', async () => {
    const cases: [string, () => tf.Tensor][] = [
      ['maxPool to 0x0', () => tf.maxPool(tf.ones([1, 1, 1, 4]) as tf.Tensor4D, 2, 2, 'valid')],
      ['avgPool to 0x0', () => tf.avgPool(tf.ones([1, 1, 1, 4]) as tf.Tensor4D, 2, 2, 'valid')],
      ['maxPool gradient', () => tf.grad((x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid').sum())(tf.ones([1, 1, 1, 4]))],
      ['avgPool gradient', () => tf.grad((x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid').sum())(tf.ones([1, 1, 1, 4]))],
      ['matMul m = 0', () => tf.matMul(tf.ones([0, 5]), tf.ones([5, 3]))],
      ['matMul k = 0', () => tf.matMul(tf.ones([4, 0]), tf.ones([0, 8]))],
      ['conv of zero examples', () => tf.conv2d(tf.ones([0, 5, 5, 4]) as tf.Tensor4D, tf.ones([3, 3, 4, 4]) as tf.Tensor4D, 1, 'same')],
      ['fused conv to 0x0', () => tf.fused.conv2d({ x: tf.ones([1, 2, 2, 4]) as tf.Tensor4D, filter: tf.ones([3, 3, 4, 4]) as tf.Tensor4D, strides: 1, pad: 'valid', bias: tf.ones([4]) })],
    ];
    for (const [label, f] of cases) {
      await tf.setBackend('wasm');
      const w = tf.tidy(() => {
        const r = f();
        return { shape: r.shape, data: Array.from(r.dataSync()) };
      });
      // Heap writes past an empty buffer show up in the next allocations and frees.
      tf.dispose(Array.from({ length: 40 }, (_, i) => tf.ones([64 + 16 * i])));
      const check = tf.tidy(() => tf.conv2d(tf.ones([2, 8, 8, 16]) as tf.Tensor4D, tf.ones([3, 3, 16, 16]) as tf.Tensor4D, 1, 'valid').sum().dataSync()[0]);
      await tf.setBackend('cpu');
      const c = tf.tidy(() => {
        const r = f();
        return { shape: r.shape, data: Array.from(r.dataSync()) };
      });
      expect(w, label).toEqual(c);
      expect(check, `${label}: a later conv`).toBe(2 * 6 * 6 * 16 * 144);
    }
  });

  it('rejects NCHW data with a clear message and leaks nothing', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.zeros([1, 2, 5, 5]);
    const dy = tf.zeros([1, 3, 5, 5]);
    const before = backend.numDataIds();
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3] }),
    ).toThrow(/NHWC/);
    expect(backend.numDataIds()).toBe(before);
    tf.dispose([x, dy]);
    await tf.setBackend('cpu');
  });
});

describe('training on wasm', () => {
  it('FusedAdam follows tf.train.adam on wasm and on cpu', async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      await tf.setBackend(backend);
      const start = values(310, 11); // not a multiple of 4: SIMD body plus JS tail
      const run = (optimizer: tf.Optimizer) => {
        const w = tf.tidy(() => tf.variable(tf.tensor(start, [31, 10])));
        for (let i = 0; i < 20; i++) {
          const g = tf.tensor(values(310, 100 + i), [31, 10]);
          optimizer.applyGradients({ [w.name]: g });
          g.dispose();
        }
        const out = w.dataSync().slice();
        w.dispose();
        optimizer.dispose();
        return out;
      };
      const before = tf.memory().numTensors;
      const fused = run(new FusedAdam(0.01));
      const stock = run(tf.train.adam(0.01));
      expect(tf.memory().numTensors).toBe(before);
      let err = 0;
      for (let i = 0; i < fused.length; i++) err = Math.max(err, Math.abs(fused[i] - stock[i]));
      expect(err, `${backend}: FusedAdam vs tf.train.adam`).toBeLessThan(1e-5);
      expect(Math.abs(fused[0] - start[0])).toBeGreaterThan(0.01);
    }
  });

  it('a small CNN trains with flat tensor and wasm buffer counts', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 2], filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }), // Winograd, all three
        tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'tanh' }),
        tf.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
        tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3 }),
      ],
    });
    const optimizer = new FusedAdam(0.01);
    const xs = tf.tensor(values(16 * 12 * 12 * 2, 5), [16, 12, 12, 2]);
    const ys = tf.oneHot(tf.tensor1d([...values(16, 6)].map((v) => Math.floor((v + 1) * 1.5)), 'int32'), 3).toFloat();
    const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const step = () => {
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar,
        true,
        vars,
      )!;
      const value = loss.dataSync()[0];
      loss.dispose();
      return value;
    };
    const first = step();
    for (let i = 0; i < 5; i++) step();
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    let last = first;
    for (let i = 0; i < 150; i++) last = step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(dataIds);
    expect(last).toBeLessThan(first * 0.5);
    tf.dispose([xs, ys]);
    model.dispose();
    optimizer.dispose();
    await tf.setBackend('cpu');
  });
});
