import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRandom } from '../../../main/engine/random.ts';
import type { AugmentKind } from '../../../nodes/_lib/augment.ts';
import { AUGMENT_INFO, GEOMETRIC_OPS, PIXEL_KINDS, appendSteps, applyChain, augmentPreview } from '../../../nodes/_lib/augment.ts';
import { batchTensors, createDataset, createMemoryStore } from '../../../nodes/_lib/dataset.ts';

const N = 3;
const H = 12;
const W = 12;
/** A deterministic, non-symmetric test batch in [0, 1]. */
const batch = (): tf.Tensor4D =>
  tf.tensor4d(Float32Array.from({ length: N * H * W * 3 }, (_, i) => ((i * 37) % 101) / 100), [N, H, W, 3]);

const step = (kind: AugmentKind, p: number, min: number, max = min) => appendSteps([], [{ kind, range: { p, min, max } }]);
const run = (steps: ReturnType<typeof step>, seed = 1, x = batch()): Float32Array => {
  const out = applyChain(x, steps, createRandom(seed));
  const data = out.dataSync() as Float32Array;
  out.dispose();
  x.dispose();
  return data;
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const original = (): Float32Array => {
  const x = batch();
  const d = x.dataSync() as Float32Array;
  x.dispose();
  return d;
};
const mean = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0) / a.length;

let tensorsBefore = 0;
beforeEach(() => {
  tensorsBefore = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(tensorsBefore);
});

describe('augmentation kinds', () => {
  for (const kind of [...GEOMETRIC_OPS, ...PIXEL_KINDS]) {
    it(`${kind}: keeps shape and [0, 1] range, is seeded, and p = 0 is the identity`, () => {
      const info = AUGMENT_INFO[kind];
      const strong = step(kind, 1, info.range[0], info.range[1]);
      const x = batch();
      const out = applyChain(x, strong, createRandom(5));
      expect(out.shape).toEqual([N, H, W, 3]);
      const v = out.dataSync();
      expect(Math.min(...v)).toBeGreaterThanOrEqual(-1e-6);
      expect(Math.max(...v)).toBeLessThanOrEqual(1 + 1e-6);
      out.dispose();
      x.dispose();
      expect(run(strong, 5)).toEqual(run(strong, 5));
      expect(run(step(kind, 0, info.range[0], info.range[1]))).toEqual(original());
    });
  }

  it('changes images under different draws', () => {
    for (const kind of ['rotate', 'noise', 'hue', 'cutout', 'fog', 'lens'] as const) {
      const s = step(kind, 1, AUGMENT_INFO[kind].range[0], AUGMENT_INFO[kind].range[1]);
      expect(maxDiff(run(s, 1), run(s, 2)), kind).toBeGreaterThan(1e-3);
    }
  });

  it('with probability below 1 only the picked images change, the rest stay exact', () => {
    const xs = tf.tensor4d(Float32Array.from({ length: 8 * 6 * 6 * 3 }, (_, i) => ((i * 7) % 50) / 100 + 0.25), [8, 6, 6, 3]);
    const orig = xs.dataSync().slice();
    for (const kind of ['noise', 'night', 'rain', 'lens', 'blur'] as const) {
      const out = applyChain(xs, step(kind, 0.5, AUGMENT_INFO[kind].range[1] || 0.5), createRandom(11));
      const v = out.dataSync();
      out.dispose();
      const per = 6 * 6 * 3;
      const changed = Array.from({ length: 8 }, (_, i) => maxDiff(v.subarray(i * per, (i + 1) * per), orig.subarray(i * per, (i + 1) * per)) > 0);
      expect(changed.filter(Boolean).length, kind).toBeGreaterThan(0);
      expect(changed.filter((c) => !c).length, kind).toBeGreaterThan(0);
    }
    xs.dispose();
  });

  it('horizontal flip twice is the identity, and once matches flipLeftRight', () => {
    const twice = appendSteps([], [
      { kind: 'flip-h', range: { p: 1, min: 0, max: 0 } },
      { kind: 'flip-h', range: { p: 1, min: 0, max: 0 } },
    ]);
    expect(twice).toHaveLength(1);
    expect(maxDiff(run(twice), original())).toBeLessThan(1e-5);
    const x = batch();
    const flipped = tf.image.flipLeftRight(x);
    expect(maxDiff(run(step('flip-h', 1, 0)), flipped.dataSync())).toBeLessThan(1e-5);
    flipped.dispose();
    x.dispose();
  });

  it('identity magnitudes are the identity: rotation 0, scale 1, translation 0, lens 0, brightness 0', () => {
    for (const [kind, m] of [['rotate', 0], ['scale', 1], ['translate', 0], ['shear', 0], ['lens', 0], ['brightness', 0], ['contrast', 1]] as const)
      expect(maxDiff(run(step(kind, 1, m)), original()), kind).toBeLessThan(1e-5);
  });

  it('rotation by 180 degrees reverses both axes', () => {
    const x = batch();
    const expected = tf.reverse(x, [1, 2]);
    expect(maxDiff(run(step('rotate', 1, 180)), expected.dataSync())).toBeLessThan(1e-4);
    expected.dispose();
    x.dispose();
  });

  it('colour kinds do what they say', () => {
    const grey = run(step('saturation', 1, 0));
    for (let i = 0; i < grey.length; i += 3) expect(Math.abs(grey[i] - grey[i + 1]) + Math.abs(grey[i] - grey[i + 2])).toBeLessThan(1e-5);
    expect(run(step('brightness', 1, 1)).every((v) => v === 1)).toBe(true);
    expect(maxDiff(run(step('hue', 1, 0)), original())).toBeLessThan(5e-3);
    const m = mean(original());
    expect(mean(run(step('night', 1, 0.8)))).toBeLessThan(m * 0.5);
    expect(Math.abs(mean(run(step('fog', 1, 1))) - 0.82)).toBeLessThan(Math.abs(m - 0.82));
    expect(mean(run(step('snow', 1, 1)))).toBeGreaterThan(m);
    const cut = run(step('cutout', 1, 0.5));
    expect(cut.filter((v) => v === 0).length).toBeGreaterThan(N * 20);
  });

  it('a fused colour step equals the kinds applied one by one (when nothing clips)', () => {
    const mid = () => tf.tensor4d(Float32Array.from({ length: N * H * W * 3 }, (_, i) => 0.35 + ((i * 37) % 101) / 400), [N, H, W, 3]);
    const kinds = [
      { kind: 'brightness' as const, range: { p: 0.7, min: -0.05, max: 0.05 } },
      { kind: 'contrast' as const, range: { p: 0.7, min: 0.9, max: 1.1 } },
      { kind: 'saturation' as const, range: { p: 0.7, min: 0.8, max: 1.2 } },
      { kind: 'hue' as const, range: { p: 0.7, min: -10, max: 10 } },
    ];
    const fused = appendSteps([], kinds);
    expect(fused.map((s) => s.kind)).toEqual(['colour']);
    const separate = kinds.map((k) => ({ kind: k.kind as string, params: { ...k.range } }));
    expect(maxDiff(run(fused, 4, mid()), run(separate, 4, mid()))).toBeLessThan(1e-4);
    expect(maxDiff(run(fused, 4, mid()), run(fused, 5, mid()))).toBeGreaterThan(1e-3);
  });

  it('geometric ops in a chain merge into one warp step; other kinds stay separate', () => {
    const chain = appendSteps(
      appendSteps([], [{ kind: 'rotate', range: { p: 1, min: 5, max: 10 } }]),
      [
        { kind: 'shear', range: { p: 1, min: 0, max: 5 } },
        { kind: 'noise', range: { p: 1, min: 0, max: 0.1 } },
        { kind: 'flip-h', range: { p: 0.5, min: 0, max: 0 } },
      ],
    );
    expect(chain.map((s) => s.kind)).toEqual(['geometric', 'noise', 'geometric']);
    expect((chain[0].params.ops as unknown[]).length).toBe(2);
  });

  it('applies on the fly in training batches with labels unchanged and reproducible per seed', () => {
    const px = Uint8Array.from({ length: 4 * 8 * 8 * 3 }, (_, i) => (i * 13) % 256);
    const d = createDataset({
      classes: ['a', 'b'],
      labels: Int32Array.from([0, 1, 1, 0]),
      subsets: {},
      store: createMemoryStore(px, [8, 8, 3]),
      augment: appendSteps([], [
        { kind: 'rotate', range: { p: 1, min: 10, max: 30 } },
        { kind: 'noise', range: { p: 1, min: 0.05, max: 0.1 } },
      ]),
    });
    const draw = (seed: number) => {
      const { x, y } = batchTensors(d, [3, 1, 2], { augmentWith: createRandom(seed) });
      const out = { x: x.dataSync().slice(), y: Array.from(y.dataSync()) };
      x.dispose();
      y.dispose();
      return out;
    };
    const a = draw(7);
    expect(a.y).toEqual([0, 1, 1]);
    expect(draw(7).x).toEqual(a.x);
    expect(maxDiff(draw(8).x, a.x)).toBeGreaterThan(0.01);
    const plain = batchTensors(d, [3, 1, 2]);
    expect(maxDiff(plain.x.dataSync(), a.x)).toBeGreaterThan(0.01);
    plain.x.dispose();
    plain.y.dispose();
  });

  it('preview is a seeded grid of originals and draws', () => {
    const px = Uint8Array.from({ length: 4 * 8 * 8 * 3 }, (_, i) => (i * 13) % 256);
    const d = createDataset({ classes: ['a', 'b'], labels: Int32Array.from([0, 1, 1, 0]), subsets: {}, store: createMemoryStore(px, [8, 8, 3]) });
    const steps = step('rotate', 1, 20, 40);
    const g = augmentPreview(d, steps, 3, { images: 2, draws: 3 });
    expect(g.columns).toBe(4);
    expect(g.images).toHaveLength(8);
    expect(g.images[0].caption).toBe('a (original)');
    expect(g.images[4].caption).toBe('b (original)');
    expect(augmentPreview(d, steps, 3, { images: 2, draws: 3 }).images[1].png).toEqual(g.images[1].png);
    expect(augmentPreview(d, steps, 4, { images: 2, draws: 3 }).images[1].png).not.toEqual(g.images[1].png);
  });
});
