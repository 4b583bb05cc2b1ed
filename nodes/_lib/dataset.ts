/**
 * The Dataset value that flows on `dataset` ports.
 *
 * A dataset is metadata (classes, labels, subsets, normalisation, augmentation steps) over an
 * ImageStore that holds the pixels compactly as 8-bit HWC. Float tensors exist only per batch:
 * `batchTensors` reads a batch of pixels from the store, converts, normalises and (for training)
 * augments them. That keeps a 20,000-image set cheap in memory, and lets a later store read from
 * a decoded-image cache on disk without changing any node that consumes datasets.
 *
 * Values are immutable: nodes derive new datasets with `deriveDataset` (sharing the store)
 * and never mutate or dispose their inputs.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ImageGridPreview } from '../../main/protocol/index.ts';
import type { Random } from '../../main/engine/random.ts';
import { downscale, encodePng, upscale } from './png.ts';

export type ImageShape = readonly [height: number, width: number, channels: number];
export type SubsetName = 'train' | 'validation' | 'test';
export const SUBSET_NAMES: readonly SubsetName[] = ['train', 'validation', 'test'];

/** Per-channel statistics on the 0..1 scale: a pixel p becomes (p / 255 - mean[c]) / std[c]. */
export interface Normalization {
  mean: number[];
  std: number[];
}

/** Pixels of `count` images of one shape, addressed by index. */
export interface ImageStore {
  /** Store kind, used to find its loader in the disk cache (`memory`, later `disk-cache`, ...). */
  readonly kind: string;
  readonly count: number;
  readonly shape: ImageShape;
  /** Bytes of memory this store holds (not what it can read from disk). */
  readonly sizeBytes: number;
  /** Packed uint8 NHWC pixels of the given images, in the given order. */
  read(indices: ArrayLike<number>): Uint8Array;
  /** Writes the store into `dir`; returns the JSON that `loadStore` needs to reopen it. */
  save(dir: string): Promise<StoreDescriptor>;
}

export interface StoreDescriptor {
  kind: string;
  [key: string]: unknown;
}

/**
 * One on-the-fly augmentation step, as data so it can be cached and shown: `kind` names an
 * implementation registered with `registerAugmentation`, `params` are its settings.
 */
export interface AugmentStep {
  kind: string;
  params: Record<string, unknown>;
}

/**
 * Applies an augmentation to a float batch in [0, 1] (before normalisation). Must not dispose
 * `x`; must be deterministic for the given random source.
 */
export type AugmentFn = (x: tf.Tensor4D, params: Record<string, unknown>, random: Random) => tf.Tensor4D;

export interface Dataset {
  readonly classes: readonly string[];
  readonly imageShape: ImageShape;
  readonly count: number;
  /** Class index of each image, in [0, classes.length). */
  readonly labels: Int32Array;
  /** Image indices of each subset; absent subsets were never split off. */
  readonly subsets: Readonly<Partial<Record<SubsetName, Int32Array>>>;
  /** Computed on the training subset by a preprocessing node; absent means pixels / 255. */
  readonly normalization?: Normalization;
  /** Applied, in order, to training batches only, fresh for every batch. */
  readonly augment?: readonly AugmentStep[];
  readonly store: ImageStore;
  /** One line on where it came from, for reports (e.g. `sample-signs seed 1`). */
  readonly origin?: string;
}

// ---------------------------------------------------------------------------------------------
// Stores

/** A store over one packed uint8 NHWC buffer in memory. The buffer must not change afterwards. */
export function createMemoryStore(pixels: Uint8Array, shape: ImageShape): ImageStore {
  const [h, w, c] = shape;
  const per = h * w * c;
  if (per <= 0 || pixels.length % per !== 0)
    throw new Error(`image buffer of ${pixels.length} bytes is not a whole number of ${h}x${w}x${c} images`);
  const count = pixels.length / per;
  return {
    kind: 'memory',
    count,
    shape,
    sizeBytes: pixels.byteLength,
    read(indices) {
      const out = new Uint8Array(indices.length * per);
      for (let i = 0; i < indices.length; i++) {
        const k = indices[i];
        if (!(k >= 0 && k < count)) throw new RangeError(`image index ${k} outside 0..${count - 1}`);
        out.set(pixels.subarray(k * per, (k + 1) * per), i * per);
      }
      return out;
    },
    async save(dir) {
      await writeFile(join(dir, 'pixels.bin'), pixels);
      return { kind: 'memory', file: 'pixels.bin' };
    },
  };
}

type StoreLoader = (dir: string, descriptor: StoreDescriptor, shape: ImageShape) => Promise<ImageStore>;
const storeLoaders = new Map<string, StoreLoader>();

/** Lets a new store kind be reopened from the disk cache. */
export function registerStoreKind(kind: string, loader: StoreLoader): void {
  storeLoaders.set(kind, loader);
}

registerStoreKind('memory', async (dir, descriptor, shape) => {
  const file = typeof descriptor.file === 'string' ? descriptor.file : 'pixels.bin';
  const buf = await readFile(join(dir, file));
  return createMemoryStore(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), shape);
});

// ---------------------------------------------------------------------------------------------
// Augmentation registry

const augmentations = new Map<string, AugmentFn>();

/** Registers the implementation of an augmentation kind (done by the module defining it). */
export function registerAugmentation(kind: string, fn: AugmentFn): void {
  augmentations.set(kind, fn);
}

// ---------------------------------------------------------------------------------------------
// Construction and checks

/** Builds a dataset over a store, checking labels, subsets and normalisation. */
export function createDataset(init: Omit<Dataset, 'count' | 'imageShape'> & { imageShape?: ImageShape }): Dataset {
  const dataset: Dataset = { ...init, imageShape: init.imageShape ?? init.store.shape, count: init.store.count };
  checkDataset(dataset);
  return dataset;
}

/** A new dataset sharing `base`'s store, with some fields replaced. `base` is not touched. */
export function deriveDataset(base: Dataset, changes: Partial<Omit<Dataset, 'store' | 'count' | 'imageShape'>>): Dataset {
  const dataset: Dataset = { ...base, ...changes };
  checkDataset(dataset);
  return dataset;
}

/** Throws a message naming the first inconsistency found. */
export function checkDataset(d: Dataset): void {
  const [h, w, c] = d.imageShape;
  if (![h, w, c].every((n) => Number.isInteger(n) && n > 0)) throw new Error(`dataset image shape ${d.imageShape.join('x')} is invalid`);
  if (d.store.shape.join('x') !== d.imageShape.join('x'))
    throw new Error(`dataset image shape ${d.imageShape.join('x')} differs from its store's ${d.store.shape.join('x')}`);
  if (d.count !== d.store.count) throw new Error(`dataset count ${d.count} differs from its store's ${d.store.count}`);
  if (d.classes.length < 1) throw new Error('dataset has no classes');
  if (d.labels.length !== d.count) throw new Error(`dataset has ${d.labels.length} labels for ${d.count} images`);
  for (let i = 0; i < d.labels.length; i++) {
    const l = d.labels[i];
    if (l < 0 || l >= d.classes.length) throw new Error(`label ${l} of image ${i} is outside 0..${d.classes.length - 1}`);
  }
  for (const name of SUBSET_NAMES) {
    const idx = d.subsets[name];
    if (!idx) continue;
    for (let i = 0; i < idx.length; i++)
      if (idx[i] < 0 || idx[i] >= d.count) throw new Error(`${name} subset holds index ${idx[i]} outside 0..${d.count - 1}`);
  }
  if (d.normalization) {
    const { mean, std } = d.normalization;
    if (mean.length !== c || std.length !== c)
      throw new Error(`normalisation has ${mean.length} means and ${std.length} stds for ${c} channels`);
    if (std.some((s) => !(s > 0))) throw new Error('normalisation std must be positive');
  }
}

/** Indices of a subset, or a clear error saying which subsets the dataset has. */
export function subsetIndices(d: Dataset, name: SubsetName | 'all'): Int32Array {
  if (name === 'all') return Int32Array.from({ length: d.count }, (_, i) => i);
  const idx = d.subsets[name];
  if (!idx || idx.length === 0) {
    const have = SUBSET_NAMES.filter((n) => (d.subsets[n]?.length ?? 0) > 0);
    throw new Error(
      `dataset has no ${name} subset (it has ${have.length ? have.join(', ') : 'none'}); add a Split node before this one`,
    );
  }
  return idx;
}

/** Per-class image counts over the given indices (all images by default). */
export function classCounts(d: Dataset, indices?: ArrayLike<number>): number[] {
  const counts = new Array<number>(d.classes.length).fill(0);
  if (!indices) for (const l of d.labels) counts[l]++;
  else for (let i = 0; i < indices.length; i++) counts[d.labels[indices[i]]]++;
  return counts;
}

export function datasetSizeBytes(d: Dataset): number {
  let n = d.store.sizeBytes + d.labels.byteLength;
  for (const name of SUBSET_NAMES) n += d.subsets[name]?.byteLength ?? 0;
  return n;
}

export const IDENTITY_NORMALIZATION = (channels: number): Normalization => ({
  mean: new Array<number>(channels).fill(0),
  std: new Array<number>(channels).fill(1),
});

/**
 * Per-channel mean and std (0..1 scale) over the given images, read in chunks so a large
 * disk-backed store is never loaded whole.
 */
export function computeNormalization(d: Dataset, indices: ArrayLike<number>): Normalization {
  const c = d.imageShape[2];
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  let n = 0;
  const chunk = 256;
  for (let start = 0; start < indices.length; start += chunk) {
    const part = Array.prototype.slice.call(indices, start, start + chunk) as number[];
    const px = d.store.read(part);
    for (let i = 0; i < px.length; i += c)
      for (let k = 0; k < c; k++) {
        const v = px[i + k] / 255;
        sum[k] += v;
        sq[k] += v * v;
      }
    n += px.length / c;
  }
  if (n === 0) throw new Error('cannot compute normalisation over zero images');
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sq, (s, k) => Math.max(Math.sqrt(Math.max(s / n - mean[k] ** 2, 0)), 1e-6));
  return { mean, std };
}

// ---------------------------------------------------------------------------------------------
// Batches

export interface BatchOptions {
  /** Overrides the dataset's normalisation (a trained model carries the one it was trained with). */
  normalization?: Normalization;
  /** Apply the dataset's augmentation steps with this random source (training batches only). */
  augmentWith?: Random;
}

/**
 * Float32 images `x` [n,h,w,c] (normalised, optionally augmented) and int32 labels `y` [n] for
 * the given indices. The caller owns and disposes both tensors.
 */
export function batchTensors(d: Dataset, indices: ArrayLike<number>, opts: BatchOptions = {}): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const [h, w, c] = d.imageShape;
  const n = indices.length;
  const pixels = d.store.read(indices);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = d.labels[indices[i]];
  const norm = opts.normalization ?? d.normalization;
  const steps = opts.augmentWith ? (d.augment ?? []) : [];
  // Scale (and normalise, when no augmentation has to see [0, 1] pixels first) in one JS pass:
  // cheaper than three tensor ops per batch on the CPU backends.
  const direct = steps.length === 0 && norm !== undefined;
  // A 256-entry table per channel maps each byte straight to its float value.
  const lut = new Float32Array(256 * c);
  for (let k = 0; k < c; k++)
    for (let v = 0; v < 256; v++) lut[k * 256 + v] = direct ? (v / 255 - norm.mean[k]) / norm.std[k] : v / 255;
  const values = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i += c) for (let k = 0; k < c; k++) values[i + k] = lut[k * 256 + pixels[i + k]];
  let x = tf.tensor4d(values, [n, h, w, c]);
  if (!direct && (steps.length > 0 || norm)) {
    const raw = x;
    try {
      x = tf.tidy(() => {
        let t = raw;
        for (const step of steps) {
          const fn = augmentations.get(step.kind);
          if (!fn) throw new Error(`unknown augmentation "${step.kind}" (is the node that defines it loaded?)`);
          t = fn(t, step.params, opts.augmentWith!);
        }
        if (norm) t = t.sub(tf.tensor1d(norm.mean)).div(tf.tensor1d(norm.std));
        return t === raw ? t.clone() : t;
      });
    } finally {
      raw.dispose();
    }
  }
  return { x, y: tf.tensor1d(labels, 'int32') };
}

/**
 * Splits `indices` into batches of `batchSize` (the last may be smaller), shuffled with `random`
 * when given. Returns index arrays only; convert each with `batchTensors` when it is needed.
 */
export function batchIndices(indices: ArrayLike<number>, batchSize: number, random?: Random): Int32Array[] {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const order = Array.from(indices);
  if (random) random.shuffle(order);
  const out: Int32Array[] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(Int32Array.from(order.slice(i, i + batchSize)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Previews

/**
 * An image grid with `perClass` images of each class (the first ones of `indices`, in order),
 * one row per class: small images are upscaled to stay legible, large ones downscaled to at
 * most 128 px so the preview stays a few hundred kilobytes.
 */
export function datasetPreview(d: Dataset, opts: { perClass?: number; indices?: ArrayLike<number>; title?: string } = {}): ImageGridPreview {
  const perClass = opts.perClass ?? 8;
  const indices = opts.indices ?? d.labels.map((_, i) => i);
  const picked: number[][] = d.classes.map(() => []);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    const row = picked[d.labels[k]];
    if (row.length < perClass) row.push(k);
  }
  const [h, w, c] = d.imageShape;
  const up = Math.max(1, Math.floor(64 / Math.max(h, w)));
  const down = Math.ceil(Math.max(h, w) / 128);
  const images = picked.flatMap((row, cls) =>
    row.map((k) => {
      const small = downscale(d.store.read([k]), w, h, c, down);
      const px = upscale(small.pixels, small.width, small.height, c, up);
      const [pw, ph] = [small.width * up, small.height * up];
      return { png: encodePng(px, pw, ph, c), width: pw, height: ph, caption: d.classes[cls] };
    }),
  );
  return { kind: 'image-grid', title: opts.title ?? `${d.count} images, ${d.classes.length} classes`, columns: perClass, images };
}

// ---------------------------------------------------------------------------------------------
// Disk cache

interface DatasetMeta {
  kind: 'dlflow-dataset';
  version: 1;
  classes: string[];
  imageShape: number[];
  count: number;
  subsets: Partial<Record<SubsetName, number>>;
  normalization?: Normalization;
  augment?: AugmentStep[];
  origin?: string;
  store: StoreDescriptor;
}

const i32Bytes = (a: Int32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
async function readI32(path: string, expected: number): Promise<Int32Array> {
  const buf = await readFile(path);
  if (buf.byteLength !== expected * 4) throw new Error(`${path}: expected ${expected * 4} bytes, found ${buf.byteLength}`);
  // Copy: the Buffer may share a pool and not be 4-byte aligned.
  return new Int32Array(new Uint8Array(buf).buffer);
}

/** Writes a dataset as meta.json + labels.bin + one file per subset + the store's files. */
export async function saveDataset(d: Dataset, dir: string): Promise<void> {
  const storeDir = join(dir, 'store');
  await mkdir(storeDir, { recursive: true });
  const store = await d.store.save(storeDir);
  await writeFile(join(dir, 'labels.bin'), i32Bytes(d.labels));
  const subsets: DatasetMeta['subsets'] = {};
  for (const name of SUBSET_NAMES) {
    const idx = d.subsets[name];
    if (!idx) continue;
    subsets[name] = idx.length;
    await writeFile(join(dir, `subset-${name}.bin`), i32Bytes(idx));
  }
  const meta: DatasetMeta = {
    kind: 'dlflow-dataset',
    version: 1,
    classes: [...d.classes],
    imageShape: [...d.imageShape],
    count: d.count,
    subsets,
    normalization: d.normalization,
    augment: d.augment ? [...d.augment] : undefined,
    origin: d.origin,
    store,
  };
  await writeFile(join(dir, 'meta.json'), JSON.stringify(meta, null, 2));
}

export async function loadDataset(dir: string): Promise<Dataset> {
  const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as DatasetMeta;
  if (meta.kind !== 'dlflow-dataset' || meta.version !== 1) throw new Error(`${dir} does not hold a version 1 dlflow dataset`);
  const shape = meta.imageShape as unknown as ImageShape;
  const loader = storeLoaders.get(meta.store.kind);
  if (!loader) throw new Error(`dataset in ${dir} uses unknown store kind "${meta.store.kind}"`);
  const store = await loader(join(dir, 'store'), meta.store, shape);
  const subsets: Partial<Record<SubsetName, Int32Array>> = {};
  for (const [name, n] of Object.entries(meta.subsets) as [SubsetName, number][])
    subsets[name] = await readI32(join(dir, `subset-${name}.bin`), n);
  return createDataset({
    classes: meta.classes,
    imageShape: shape,
    labels: await readI32(join(dir, 'labels.bin'), meta.count),
    subsets,
    normalization: meta.normalization,
    augment: meta.augment,
    origin: meta.origin,
    store,
  });
}
