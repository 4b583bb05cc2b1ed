import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../../main/engine/random.ts';
import {
  batchIndices,
  batchTensors,
  classCounts,
  computeNormalization,
  createDataset,
  createMemoryStore,
  datasetPreview,
  deriveDataset,
  loadDataset,
  registerAugmentation,
  saveDataset,
  subsetIndices,
} from '../../../nodes/_lib/dataset.ts';
import { encodePng } from '../../../nodes/_lib/png.ts';
import { setupBackend, tempDir } from '../_ctx.ts';

/** 4 images of 2x2x3; image i has every byte equal to 10*(i+1) + channel. */
function tinyDataset() {
  const pixels = new Uint8Array(4 * 12);
  for (let i = 0; i < 4; i++) for (let p = 0; p < 4; p++) for (let c = 0; c < 3; c++) pixels[i * 12 + p * 3 + c] = 10 * (i + 1) + c;
  return createDataset({
    classes: ['a', 'b'],
    labels: Int32Array.from([0, 1, 0, 1]),
    subsets: { train: Int32Array.from([0, 1, 2]), validation: Int32Array.from([3]) },
    store: createMemoryStore(pixels, [2, 2, 3]),
  });
}

beforeAll(async () => {
  await setupBackend();
});

describe('memory store and dataset checks', () => {
  it('reads images by index in the order asked', () => {
    const d = tinyDataset();
    const px = d.store.read([2, 0]);
    expect(px.length).toBe(24);
    expect(px[0]).toBe(30);
    expect(px[12]).toBe(10);
    expect(() => d.store.read([4])).toThrow(/image index 4 outside 0..3/);
  });

  it('rejects inconsistent datasets with a message naming the problem', () => {
    const store = createMemoryStore(new Uint8Array(24), [2, 2, 3]);
    expect(() => createDataset({ classes: ['a'], labels: Int32Array.from([0]), subsets: {}, store })).toThrow(/1 labels for 2 images/);
    expect(() => createDataset({ classes: ['a'], labels: Int32Array.from([0, 3]), subsets: {}, store })).toThrow(/label 3 of image 1/);
    expect(() =>
      createDataset({ classes: ['a'], labels: Int32Array.from([0, 0]), subsets: { train: Int32Array.from([5]) }, store }),
    ).toThrow(/train subset holds index 5/);
    expect(() => createMemoryStore(new Uint8Array(25), [2, 2, 3])).toThrow(/not a whole number/);
  });

  it('names the missing subset and the ones present', () => {
    const d = tinyDataset();
    expect(() => subsetIndices(d, 'test')).toThrow(/no test subset \(it has train, validation\)/);
    expect(Array.from(subsetIndices(d, 'all'))).toEqual([0, 1, 2, 3]);
    expect(classCounts(d)).toEqual([2, 2]);
    expect(classCounts(d, d.subsets.train)).toEqual([2, 1]);
  });

  it('derives new datasets without touching the base', () => {
    const d = tinyDataset();
    const e = deriveDataset(d, { subsets: {} });
    expect(e.store).toBe(d.store);
    expect(d.subsets.train?.length).toBe(3);
    expect(e.subsets.train).toBeUndefined();
  });
});

describe('batches', () => {
  it('scales to [0,1] and applies normalisation per channel', () => {
    const d = tinyDataset();
    const before = tf.memory().numTensors;
    const plain = batchTensors(d, [1, 3]);
    expect(plain.x.shape).toEqual([2, 2, 2, 3]);
    expect(plain.x.dtype).toBe('float32');
    expect(plain.y.dtype).toBe('int32');
    expect(Array.from(plain.y.dataSync())).toEqual([1, 1]);
    expect(plain.x.dataSync()[0]).toBeCloseTo(20 / 255, 6);
    const norm = { mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2] };
    const n = batchTensors(d, [0], { normalization: norm });
    const v = n.x.dataSync();
    expect(v[0]).toBeCloseTo((10 / 255 - 0.1) / 0.5, 5);
    expect(v[1]).toBeCloseTo((11 / 255 - 0.2) / 0.25, 5);
    expect(v[2]).toBeCloseTo((12 / 255 - 0.3) / 2, 5);
    tf.dispose([plain.x, plain.y, n.x, n.y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('applies registered augmentations to training batches only, before normalisation', () => {
    registerAugmentation('test-invert', (x) => tf.sub(1, x) as tf.Tensor4D);
    const d = deriveDataset(tinyDataset(), { augment: [{ kind: 'test-invert', params: {} }], normalization: { mean: [0, 0, 0], std: [2, 2, 2] } });
    const before = tf.memory().numTensors;
    const train = batchTensors(d, [0], { augmentWith: createRandom(1) });
    const evalBatch = batchTensors(d, [0]);
    expect(train.x.dataSync()[0]).toBeCloseTo((1 - 10 / 255) / 2, 5);
    expect(evalBatch.x.dataSync()[0]).toBeCloseTo(10 / 255 / 2, 5);
    tf.dispose([train.x, train.y, evalBatch.x, evalBatch.y]);
    expect(tf.memory().numTensors).toBe(before);
    const unknown = deriveDataset(d, { augment: [{ kind: 'no-such-thing', params: {} }] });
    expect(() => batchTensors(unknown, [0], { augmentWith: createRandom(1) })).toThrow(/unknown augmentation "no-such-thing"/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('splits indices into shuffled batches that cover each index once', () => {
    const idx = Int32Array.from({ length: 10 }, (_, i) => i);
    const batches = batchIndices(idx, 4, createRandom(3));
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(batches.flatMap((b) => Array.from(b)).sort((a, b) => a - b)).toEqual(Array.from(idx));
    expect(batches.flatMap((b) => Array.from(b))).toEqual(batchIndices(idx, 4, createRandom(3)).flatMap((b) => Array.from(b)));
    expect(() => batchIndices(idx, 0)).toThrow(/positive integer/);
  });

  it('computes per-channel mean and std on the given images', () => {
    const d = tinyDataset();
    const n = computeNormalization(d, [0, 1]);
    expect(n.mean[0]).toBeCloseTo(15 / 255, 6);
    expect(n.std[0]).toBeCloseTo(5 / 255, 6);
    expect(n.mean[2]).toBeCloseTo(17 / 255, 6);
  });
});

describe('disk cache and previews', () => {
  it('round-trips through save and load', async () => {
    const d = deriveDataset(tinyDataset(), { normalization: { mean: [0.1, 0.2, 0.3], std: [1, 1, 1] }, origin: 'tiny' });
    const dir = tempDir();
    await saveDataset(d, dir);
    const e = await loadDataset(dir);
    expect(e.classes).toEqual(d.classes);
    expect(e.imageShape).toEqual(d.imageShape);
    expect(Array.from(e.labels)).toEqual(Array.from(d.labels));
    expect(Array.from(e.subsets.train!)).toEqual([0, 1, 2]);
    expect(Array.from(e.subsets.validation!)).toEqual([3]);
    expect(e.subsets.test).toBeUndefined();
    expect(e.normalization).toEqual(d.normalization);
    expect(e.origin).toBe('tiny');
    expect(Array.from(e.store.read([0, 1, 2, 3]))).toEqual(Array.from(d.store.read([0, 1, 2, 3])));
  });

  it('encodes PNGs that decode to the same pixels', async () => {
    const px = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => (i * 37) % 256);
    const png = encodePng(px, 3, 2, 3);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([3, 2, 3]);
    expect(Array.from(data)).toEqual(Array.from(px));
    expect(() => encodePng(px, 3, 3, 3)).toThrow(/expected 27 bytes/);
  });

  it('previews one row per class with captions', () => {
    const d = tinyDataset();
    const p = datasetPreview(d, { perClass: 2 });
    expect(p.kind).toBe('image-grid');
    expect(p.columns).toBe(2);
    expect(p.images.map((i) => i.caption)).toEqual(['a', 'a', 'b', 'b']);
    expect(p.images[0].width).toBe(64);
    expect(Array.from(p.images[0].png.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
  });

  it('downscales large images in previews by box averaging', async () => {
    // One 300x300 grey image: left half 0, right half 200.
    const px = new Uint8Array(300 * 300);
    for (let y = 0; y < 300; y++) px.fill(200, y * 300 + 150, (y + 1) * 300);
    const d = createDataset({ classes: ['x'], labels: Int32Array.from([0]), subsets: {}, store: createMemoryStore(px, [300, 300, 1]) });
    const p = datasetPreview(d);
    expect([p.images[0].width, p.images[0].height]).toEqual([100, 100]);
    const { data, info } = await sharp(p.images[0].png).raw().toBuffer({ resolveWithObject: true });
    // sharp may expand grey to RGB on decode; read the first channel of each pixel.
    const at = (x: number): number => data[x * info.channels];
    expect([at(0), at(49), at(50), at(99)]).toEqual([0, 0, 200, 200]);
  });
});
