import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchTensors, classCounts, createDataset, createMemoryStore, deriveDataset } from '../../../nodes/_lib/dataset.ts';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import { balanceClasses } from '../../../nodes/preprocess/balance-classes.node.ts';
import { colourMode } from '../../../nodes/preprocess/colour-mode.node.ts';
import { normalise } from '../../../nodes/preprocess/normalise.node.ts';
import { resize } from '../../../nodes/preprocess/resize.node.ts';
import { makeCtx, runNode, tempDir } from '../data/_helpers.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let before = 0;
beforeEach(() => {
  before = tf.memory().numTensors;
});
afterEach(() => expect(tf.memory().numTensors).toBe(before));

/** n images h x w x c; image i pixel (y, x, ch) = fn(i, y, x, ch). */
function make(n: number, h: number, w: number, c: number, fn: (i: number, y: number, x: number, ch: number) => number, labels?: number[]): Dataset {
  const px = new Uint8Array(n * h * w * c);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) px[((i * h + y) * w + x) * c + ch] = fn(i, y, x, ch);
  return createDataset({ classes: ['a', 'b'], labels: Int32Array.from(labels ?? Array.from({ length: n }, (_, i) => i % 2)), subsets: {}, store: createMemoryStore(px, [h, w, c]) });
}
const at = (d: Dataset, i: number, y: number, x: number): number[] => {
  const [, w, c] = d.imageShape;
  return Array.from(d.store.read([i]).subarray((y * w + x) * c, (y * w + x + 1) * c));
};

describe('resize', () => {
  // 2 images 4 tall x 8 wide: left half 200, right half 100.
  const wide = make(2, 4, 8, 1, (_i, _y, x) => (x < 4 ? 200 : 100));
  it('stretches, centre-crops and letterboxes', async () => {
    const ctx = makeCtx(tmp.dir);
    const s = (await runNode(resize, { dataset: wide }, { width: 4, height: 4, fit: 'stretch' }, ctx)).dataset as Dataset;
    expect(s.imageShape).toEqual([4, 4, 1]);
    expect(s.count).toBe(2);
    expect(at(s, 1, 0, 0)).toEqual([200]);
    expect(at(s, 1, 0, 3)).toEqual([100]);
    const l = (await runNode(resize, { dataset: wide }, { width: 4, height: 4, fit: 'letterbox' }, ctx)).dataset as Dataset;
    expect(at(l, 0, 0, 0)).toEqual([0]);
    expect(at(l, 0, 3, 0)).toEqual([0]);
    expect(at(l, 0, 1, 0)).toEqual([200]);
    const c = (await runNode(resize, { dataset: wide }, { width: 4, height: 4, fit: 'crop' }, ctx)).dataset as Dataset;
    // The centre 4x4 window spans x = 2..5: two columns of 200 then two of 100.
    expect(at(c, 0, 2, 0)).toEqual([200]);
    expect(at(c, 0, 2, 3)).toEqual([100]);
    expect(Array.from(c.labels)).toEqual([0, 1]);
  });
});

describe('colour mode', () => {
  it('converts RGB to grey (luma) and back', async () => {
    const rgb = make(2, 2, 2, 3, (_i, _y, _x, ch) => [255, 0, 0][ch]);
    const ctx = makeCtx(tmp.dir);
    const grey = (await runNode(colourMode, { dataset: rgb }, { mode: 'grey' }, ctx)).dataset as Dataset;
    expect(grey.imageShape).toEqual([2, 2, 1]);
    expect(at(grey, 0, 1, 1)).toEqual([76]);
    const back = (await runNode(colourMode, { dataset: grey }, { mode: 'rgb' }, ctx)).dataset as Dataset;
    expect(at(back, 1, 0, 0)).toEqual([76, 76, 76]);
  });
});

describe('normalise', () => {
  // Train images (0..3) alternate 0 and 255 per channel pattern; validation images are all 255.
  const base = make(6, 2, 2, 3, (i, _y, _x, ch) => (i >= 4 ? 255 : i % 2 === 0 ? 0 : ch === 2 ? 51 : 255));
  const split = deriveDataset(base, { subsets: { train: Int32Array.from([0, 1, 2, 3]), validation: Int32Array.from([4, 5]) } });

  it('computes per-channel statistics from the train subset only', async () => {
    const ctx = makeCtx(tmp.dir);
    const d = (await runNode(normalise, { dataset: split }, {}, ctx)).dataset as Dataset;
    expect(d.normalization!.mean[0]).toBeCloseTo(0.5, 6);
    expect(d.normalization!.std[0]).toBeCloseTo(0.5, 6);
    expect(d.normalization!.mean[2]).toBeCloseTo(0.1, 6);
    expect(d.normalization!.std[2]).toBeCloseTo(0.1, 6);
    const { x, y } = batchTensors(d, [0, 1]);
    const v = x.dataSync();
    expect(v[0]).toBeCloseTo(-1, 5);
    expect(v[12]).toBeCloseTo(1, 5);
    x.dispose();
    y.dispose();
    expect(split.normalization).toBeUndefined();
  });

  it('pools channels or only centres when asked, and needs a train subset', async () => {
    const ctx = makeCtx(tmp.dir);
    const pooled = (await runNode(normalise, { dataset: split }, { perChannel: false, divideByStd: false }, ctx)).dataset as Dataset;
    expect(new Set(pooled.normalization!.mean).size).toBe(1);
    expect(pooled.normalization!.mean[0]).toBeCloseTo((0.5 + 0.5 + 0.1) / 3, 6);
    expect(pooled.normalization!.std).toEqual([1, 1, 1]);
    await expect(runNode(normalise, { dataset: base }, {}, ctx)).rejects.toThrow(/put a Split node before Normalise/);
  });
});

describe('balance classes', () => {
  const labels = [0, 0, 0, 0, 0, 0, 1, 1, 0, 1];
  const d0 = make(10, 1, 1, 1, (i) => i, labels);
  const d = deriveDataset(d0, { subsets: { train: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]), validation: Int32Array.from([8, 9]) } });
  it('oversamples the train subset to the largest class, leaving validation alone', async () => {
    const out = (await runNode(balanceClasses, { dataset: d }, { mode: 'oversample' }, makeCtx(tmp.dir))).dataset as Dataset;
    expect(classCounts(out, out.subsets.train)).toEqual([6, 6]);
    expect(Array.from(out.subsets.validation!)).toEqual([8, 9]);
    const again = (await runNode(balanceClasses, { dataset: d }, { mode: 'oversample' }, makeCtx(tmp.dir))).dataset as Dataset;
    expect(again.subsets.train).toEqual(out.subsets.train);
  });
  it('undersamples to the smallest class', async () => {
    const out = (await runNode(balanceClasses, { dataset: d }, { mode: 'undersample' }, makeCtx(tmp.dir))).dataset as Dataset;
    expect(classCounts(out, out.subsets.train)).toEqual([2, 2]);
    expect(new Set(out.subsets.train).size).toBe(4);
  });
});
