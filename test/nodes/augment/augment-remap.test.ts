/**
 * The one-pass remap (geometric warp ∘ lens distortion) and the one-pass pixel kinds, checked
 * against the tensor-op versions they replaced. Runs on the cpu backend (the JS fallback of the
 * DlflowRemap kernel); augment-wasm.test.ts runs the wasm kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRandom } from '../../../main/engine/random.ts';
import { remapBilinear, REMAP_PARAMS } from '../../../main/engine/backend/wasm-kernels/remap.ts';
import { AUGMENT_INFO, appendSteps, applyChain, gaussianBlur, geometricParamsOf, remap } from '../../../nodes/_lib/augment.ts';
import { chainKinds } from '../../../nodes/_lib/augment-node.ts';
import { createDataset, createMemoryStore } from '../../../nodes/_lib/dataset.ts';

const H = 16;
const W = 20;
/** A smooth, non-symmetric batch in [0, 1] (bilinear resampling twice stays close to once). */
const smooth = (n: number): tf.Tensor4D =>
  tf.tensor4d(
    Float32Array.from({ length: n * H * W * 3 }, (_, i) => {
      const ch = i % 3;
      const x = Math.floor(i / 3) % W;
      const y = Math.floor(i / 3 / W) % H;
      const b = Math.floor(i / 3 / W / H);
      return 0.5 + 0.4 * Math.sin(0.25 * x + 0.15 * y + ch + b);
    }),
    [n, H, W, 3],
  );
/** A rough batch (values jump pixel to pixel), for exact comparisons. */
const rough = (n: number): tf.Tensor4D => tf.tensor4d(Float32Array.from({ length: n * H * W * 3 }, (_, i) => ((i * 37) % 101) / 100), [n, H, W, 3]);

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const take = (t: tf.Tensor): Float32Array => {
  const v = t.dataSync().slice() as Float32Array;
  t.dispose();
  return v;
};

/** The replaced lens distortion: clamped radial source points, bilinear by four gathers. */
function referenceLens(x: tf.Tensor4D, k: Float32Array): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return tf.tidy(() => {
    const cx = (w - 1) / 2;
    const cy = (h - 1) / 2;
    const norm = Math.hypot(cx, cy);
    const gx = new Float32Array(h * w);
    const gy = new Float32Array(h * w);
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        gx[y * w + xx] = (xx - cx) / norm;
        gy[y * w + xx] = (y - cy) / norm;
      }
    const dx = tf.tensor2d(gx, [1, h * w]);
    const dy = tf.tensor2d(gy, [1, h * w]);
    const factor = dx.square().add(dy.square()).mul(tf.tensor2d(k, [n, 1])).add(1).mul(tf.tensor2d(k.map((v) => (v > 0 ? 1 / (1 + v) : 1)), [n, 1]));
    const sx = dx.mul(factor).mul(norm).add(cx).clipByValue(0, w - 1);
    const sy = dy.mul(factor).mul(norm).add(cy).clipByValue(0, h - 1);
    const x0 = sx.floor();
    const y0 = sy.floor();
    const fx = sx.sub(x0).expandDims(2);
    const fy = sy.sub(y0).expandDims(2);
    const x1 = x0.add(1).minimum(w - 1);
    const y1 = y0.add(1).minimum(h - 1);
    const base = tf.range(0, n, 1, 'float32').mul(h * w).reshape([n, 1]);
    const flat = x.reshape([n * h * w, c]);
    const at = (yy: tf.Tensor, xx: tf.Tensor): tf.Tensor => tf.gather(flat, base.add(yy.mul(w)).add(xx).toInt().reshape([-1])).reshape([n, h * w, c]);
    const top = at(y0, x0).mul(tf.sub(1, fx)).add(at(y0, x1).mul(fx));
    const bottom = at(y1, x0).mul(tf.sub(1, fx)).add(at(y1, x1).mul(fx));
    return top.mul(tf.sub(1, fy)).add(bottom.mul(fy)).reshape([n, h, w, c]) as tf.Tensor4D;
  });
}

/** tf.image.transform image by image (tfjs 4.22's cpu kernel only warps the first image of a batch). */
function referenceTransform(x: tf.Tensor4D, m: Float32Array, fill: 'reflect' | 'constant' | 'nearest'): tf.Tensor4D {
  const n = x.shape[0];
  return tf.tidy(() =>
    tf.concat(
      tf.split(x, n, 0).map((img, i) => tf.image.transform(img as tf.Tensor4D, tf.tensor2d(m.subarray(i * 8, i * 8 + 8), [1, 8]), 'bilinear', fill, 0)),
      0,
    ),
  );
}

/** Affine maps that move parts of the image out of view (so the fill modes show), and one projective. */
function someMatrices(): Float32Array {
  const a = (deg: number, s: number, tx: number, ty: number): number[] => {
    const r = (deg * Math.PI) / 180;
    return [s * Math.cos(r), s * Math.sin(r), tx, -s * Math.sin(r), s * Math.cos(r), ty, 0, 0];
  };
  return Float32Array.from([...a(20, 1.2, -3, 2), ...a(-35, 0.8, 6, -4), [1.1, 0.05, -2, 0.02, 0.95, 1, 0.004, -0.003]].flat());
}

let tensorsBefore = 0;
beforeEach(() => {
  tensorsBefore = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(tensorsBefore);
});

describe('one-pass remap', () => {
  it('without lens distortion equals tf.image.transform, for every fill mode (projective included)', () => {
    const m = someMatrices();
    for (const fill of ['reflect', 'constant', 'nearest'] as const) {
      const x = rough(3);
      const ours = take(remap(x, m, new Float32Array(3), fill));
      const theirs = take(referenceTransform(x, m, fill));
      x.dispose();
      expect(maxDiff(ours, theirs), fill).toBeLessThan(1e-5);
    }
  });

  it('lens distortion alone equals the replaced gather version exactly', () => {
    const k = Float32Array.from([0.3, -0.3, 0.8, -0.8]);
    const x = rough(4);
    const identity = Float32Array.from({ length: 4 * 8 }, (_, i) => [1, 0, 0, 0, 1, 0, 0, 0][i % 8]);
    const ours = take(remap(x, identity, k, 'reflect'));
    const theirs = take(referenceLens(x, k));
    x.dispose();
    expect(maxDiff(ours, theirs)).toBeLessThan(1e-5);
  });

  it('warp and lens in one pass match the old two steps (warp, then lens) within interpolation error', () => {
    const m = someMatrices();
    const k = Float32Array.from([0.25, -0.25, 0.15]);
    const x = smooth(3);
    const fused = take(remap(x, m, k, 'reflect'));
    const warped = referenceTransform(x, m, 'reflect');
    const twoStep = take(referenceLens(warped, k));
    warped.dispose();
    x.dispose();
    // Sampling once instead of twice is a little sharper; on a smooth image the two agree closely.
    let sum = 0;
    for (let i = 0; i < fused.length; i++) sum += Math.abs(fused[i] - twoStep[i]);
    expect(sum / fused.length).toBeLessThan(0.01);
    expect(maxDiff(fused, twoStep)).toBeLessThan(0.08);
    // And the lens really is in there: without it the result differs clearly.
    const y = smooth(3);
    const warpOnly = take(remap(y, m, new Float32Array(3), 'reflect'));
    y.dispose();
    expect(maxDiff(fused, warpOnly)).toBeGreaterThan(0.1);
  });

  it('remapBilinear copies images whose map is the identity and rejects nothing else silently', () => {
    const n = 2;
    const src = Float32Array.from({ length: n * 4 * 5 * 3 }, (_, i) => i / 100);
    const dst = new Float32Array(src.length);
    const params = new Float32Array(n * REMAP_PARAMS);
    params.set([1, 0, 0, 0, 1, 0, 0, 0, 0], 0);
    params.set([-1, 0, 4, 0, 1, 0, 0, 0, 0], REMAP_PARAMS); // horizontal flip of a 5-wide image
    remapBilinear(src, dst, n, 4, 5, 3, params, 'reflect');
    expect(Array.from(dst.subarray(0, 60))).toEqual(Array.from(src.subarray(0, 60)));
    const per = 60;
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 5; x++)
        for (let c = 0; c < 3; c++) expect(dst[per + (y * 5 + x) * 3 + c]).toBeCloseTo(src[per + (y * 5 + (4 - x)) * 3 + c], 6);
    const x = rough(2);
    expect(() => remap(x, new Float32Array(8), new Float32Array(2), 'reflect')).toThrow(/2 matrices/);
    x.dispose();
  });
});

describe('lens folds into the geometric step', () => {
  it('a lens right after geometric ops joins their step; a later geometric op starts a new one', () => {
    const chain = appendSteps([], [
      { kind: 'rotate', range: { p: 1, min: 5, max: 10 } },
      { kind: 'lens', range: { p: 0.5, min: -0.2, max: 0.2 } },
      { kind: 'flip-h', range: { p: 0.5, min: 0, max: 0 } },
      { kind: 'lens', range: { p: 1, min: 0.1, max: 0.1 } },
      { kind: 'lens', range: { p: 1, min: 0.1, max: 0.1 } },
    ]);
    expect(chain.map((s) => s.kind)).toEqual(['geometric', 'geometric', 'lens']);
    expect(chain[0].params.lens).toEqual({ p: 0.5, min: -0.2, max: 0.2 });
    expect(geometricParamsOf(chain[1].params).lens).toEqual({ p: 1, min: 0.1, max: 0.1 });
    const d = createDataset({ classes: ['a'], labels: Int32Array.from([0]), subsets: {}, store: createMemoryStore(new Uint8Array(H * W * 3), [H, W, 3]), augment: chain });
    expect(chainKinds(d)).toEqual(['rotate', 'lens', 'flip-h', 'lens', 'lens']);
    expect(() => geometricParamsOf({ ops: [], lens: { p: 2 } })).toThrow(/lens: probability 2/);
  });

  it('a folded chain is seeded, in range, and its lens changes the result', () => {
    const add = (lensP: number) =>
      appendSteps([], [
        { kind: 'rotate', range: { p: 1, min: 10, max: 20 } },
        { kind: 'lens', range: { p: lensP, min: 0.3, max: 0.3 } },
      ]);
    const run = (steps: ReturnType<typeof add>, seed: number): Float32Array => {
      const x = smooth(2);
      const out = take(applyChain(x, steps, createRandom(seed)));
      x.dispose();
      return out;
    };
    const a = run(add(1), 3);
    expect(run(add(1), 3)).toEqual(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThanOrEqual(1);
    expect(maxDiff(a, run(add(0), 3))).toBeGreaterThan(0.05);
  });
});

describe('one-pass pixel kinds', () => {
  it('gaussian blur equals the separable depthwise convolution with reflected borders', () => {
    for (const sigma of [0.7, 1.5, 3]) {
      const x = rough(2);
      const ours = take(gaussianBlur(x, sigma));
      const radius = Math.min(Math.ceil(2.5 * sigma), Math.floor((Math.min(H, W) - 1) / 2));
      const taps = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
      const sum = taps.reduce((s, t) => s + t, 0);
      const k = taps.flatMap((t) => [t / sum, t / sum, t / sum]);
      const theirs = take(
        tf.tidy(() => {
          const padded = tf.mirrorPad(x, [[0, 0], [radius, radius], [radius, radius], [0, 0]], 'reflect');
          const rows = tf.depthwiseConv2d(padded, tf.tensor4d(k, [1, taps.length, 3, 1]), 1, 'valid');
          return tf.depthwiseConv2d(rows, tf.tensor4d(k, [taps.length, 1, 3, 1]), 1, 'valid');
        }),
      );
      x.dispose();
      expect(maxDiff(ours, theirs), `sigma ${sigma}`).toBeLessThan(1e-5);
    }
  });

  it('gaussian noise has the drawn spread and no bias', () => {
    const n = 2;
    const x = tf.fill([n, 64, 64, 3], 0.5) as tf.Tensor4D;
    const out = take(applyChain(x, appendSteps([], [{ kind: 'noise', range: { p: 1, min: 0.05, max: 0.05 } }]), createRandom(1)));
    x.dispose();
    const diffs = Array.from(out, (v) => v - 0.5);
    const mu = diffs.reduce((s, v) => s + v, 0) / diffs.length;
    const sd = Math.sqrt(diffs.reduce((s, v) => s + (v - mu) ** 2, 0) / diffs.length);
    expect(Math.abs(mu)).toBeLessThan(0.003);
    expect(sd).toBeGreaterThan(0.045);
    expect(sd).toBeLessThan(0.055);
    // Different images get different noise.
    const per = 64 * 64 * 3;
    expect(maxDiff(out.subarray(0, per), out.subarray(per))).toBeGreaterThan(0.05);
  });

  it('a long chain of pixel kinds leaves its input alone (the reused buffer never writes back)', () => {
    const x = rough(3);
    const before = x.dataSync().slice();
    const kinds = ['brightness', 'noise', 'blur', 'cutout', 'fog', 'rain', 'snow', 'night'] as const;
    const chain = appendSteps([], kinds.map((kind) => ({ kind, range: { p: 1, min: AUGMENT_INFO[kind].range[0], max: AUGMENT_INFO[kind].range[1] } })));
    const first = applyChain(x, chain, createRandom(2));
    const again = applyChain(x, chain, createRandom(2));
    expect(maxDiff(first.dataSync(), again.dataSync())).toBe(0);
    expect(maxDiff(x.dataSync(), before)).toBe(0);
    first.dispose();
    again.dispose();
    x.dispose();
  });
});
