/**
 * Batched augmentations on float NHWC tensors in [0, 1], registered with the dataset's
 * augmentation registry so `batchTensors` applies them to every training batch.
 *
 * Every kind takes `{ p, min, max }`: each image is augmented with probability `p`, with a
 * magnitude drawn uniformly from [min, max]. Per-image numbers come from the JS random source
 * and per-pixel noise from seeds it hands out, so a batch is reproducible from the seed.
 *
 * Geometric kinds (flips, scale, crop, translation, rotation, stretch, shear) compose into one
 * 3x3 projective matrix per image and run as ONE bilinear remap per batch (the DlflowRemap
 * kernel on wasm), whatever the chain: a `geometric` step carries the list of ops, and the lens
 * distortion that follows them folds into the same sampling pass (affine ∘ radial). The
 * photometric and weather kinds (colour, noise, blur, cutout, fog, rain, snow, night) each make
 * one pass over only the images their probability picked, editing the output tensor's memory in
 * place (the DlflowImageEdit kernel on wasm); weather maps are drawn at low resolution and
 * upsampled. On wasm the chains of tensor ops these replace cost 5-20x more (see bench/data.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { Random } from '../../main/engine/random.ts';
import { createRandom, hashString } from '../../main/engine/random.ts';
import type { ImageGridPreview } from '../../main/protocol/index.ts';
import type { AugmentStep, Dataset } from './dataset.ts';
import { registerAugmentation } from './dataset.ts';
import { IMAGE_EDIT_KERNEL } from '../../main/engine/backend/wasm-kernels/image-edit.ts';
import { REMAP_KERNEL, REMAP_PARAMS, remapBilinear } from '../../main/engine/backend/wasm-kernels/remap.ts';
import { encodePng, upscale } from './png.ts';

/** Probability and magnitude range of one augmentation kind. */
export interface AugmentRange {
  p: number;
  min: number;
  max: number;
}

export const GEOMETRIC_OPS = ['flip-h', 'flip-v', 'scale', 'crop', 'translate', 'rotate', 'stretch', 'shear'] as const;
export type GeometricOp = (typeof GEOMETRIC_OPS)[number];
export const PIXEL_KINDS = ['lens', 'brightness', 'contrast', 'saturation', 'hue', 'noise', 'blur', 'cutout', 'fog', 'rain', 'snow', 'night'] as const;
export type PixelKind = (typeof PIXEL_KINDS)[number];
export type AugmentKind = GeometricOp | PixelKind;

export type GeometricFill = 'reflect' | 'constant' | 'nearest';
export interface GeometricParams {
  ops: (AugmentRange & { op: GeometricOp })[];
  fill?: GeometricFill;
  /** Lens distortion applied after the ops, in the same sampling pass. */
  lens?: AugmentRange;
}

/**
 * What each kind's magnitude means, its valid bounds and a sensible default range. Used by the
 * nodes for param schemas and docs, and here to validate steps.
 */
export const AUGMENT_INFO: Record<AugmentKind, { label: string; magnitude: string; bounds: [number, number]; range: [number, number]; p: number }> = {
  'flip-h': { label: 'Horizontal flip', magnitude: 'unused', bounds: [0, 1], range: [0, 0], p: 0.5 },
  'flip-v': { label: 'Vertical flip', magnitude: 'unused', bounds: [0, 1], range: [0, 0], p: 0.5 },
  scale: { label: 'Scale', magnitude: 'zoom factor (1 = none, 1.2 = 20% closer)', bounds: [0.2, 5], range: [0.85, 1.2], p: 0.5 },
  crop: { label: 'Random crop', magnitude: 'kept fraction of each side, resized back up', bounds: [0.2, 1], range: [0.75, 1], p: 0.5 },
  translate: { label: 'Translation', magnitude: 'largest shift as a fraction of the size', bounds: [0, 0.5], range: [0, 0.1], p: 0.5 },
  rotate: { label: 'Rotation', magnitude: 'angle in degrees (sign drawn at random)', bounds: [0, 180], range: [0, 15], p: 0.5 },
  stretch: { label: 'Stretch', magnitude: 'aspect change (1.2 = 20% wider or taller)', bounds: [1, 3], range: [1, 1.2], p: 0.5 },
  shear: { label: 'Shear', magnitude: 'shear angle in degrees (sign drawn at random)', bounds: [0, 45], range: [0, 10], p: 0.5 },
  lens: { label: 'Lens distortion', magnitude: 'k: > 0 barrel, < 0 pincushion', bounds: [-0.8, 0.8], range: [-0.3, 0.3], p: 0.3 },
  brightness: { label: 'Brightness', magnitude: 'added to pixels (0..1 scale)', bounds: [-1, 1], range: [-0.2, 0.2], p: 0.5 },
  contrast: { label: 'Contrast', magnitude: 'contrast factor (1 = none)', bounds: [0, 3], range: [0.7, 1.3], p: 0.5 },
  saturation: { label: 'Saturation', magnitude: 'saturation factor (1 = none, 0 = grey)', bounds: [0, 3], range: [0.6, 1.4], p: 0.5 },
  hue: { label: 'Hue', magnitude: 'hue rotation in degrees', bounds: [-180, 180], range: [-15, 15], p: 0.5 },
  noise: { label: 'Gaussian noise', magnitude: 'noise std (0..1 scale)', bounds: [0, 0.5], range: [0, 0.05], p: 0.3 },
  blur: { label: 'Blur', magnitude: 'Gaussian sigma in pixels (one per batch)', bounds: [0, 10], range: [0.5, 1.5], p: 0.2 },
  cutout: { label: 'Cutout', magnitude: 'square side as a fraction of the image', bounds: [0, 1], range: [0.1, 0.3], p: 0.3 },
  fog: { label: 'Fog', magnitude: 'fog density 0..1', bounds: [0, 1], range: [0.3, 0.7], p: 0.15 },
  rain: { label: 'Rain', magnitude: 'rain intensity 0..1', bounds: [0, 1], range: [0.3, 0.8], p: 0.15 },
  snow: { label: 'Snow', magnitude: 'snow intensity 0..1', bounds: [0, 1], range: [0.3, 0.8], p: 0.15 },
  night: { label: 'Night', magnitude: 'darkness 0..1', bounds: [0, 1], range: [0.4, 0.8], p: 0.15 },
};

export const isGeometric = (kind: string): kind is GeometricOp => (GEOMETRIC_OPS as readonly string[]).includes(kind);

/** Reads `{p, min, max}` from step params with a clear message when malformed. */
export function rangeOf(kind: string, params: Record<string, unknown>): AugmentRange {
  const num = (k: string, d: number): number => {
    const v = params[k] ?? d;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`augmentation ${kind}: ${k} must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const p = num('p', 0.5);
  const min = num('min', 0);
  const max = num('max', min);
  if (p < 0 || p > 1) throw new Error(`augmentation ${kind}: probability ${p} is outside 0..1`);
  if (max < min) throw new Error(`augmentation ${kind}: max ${max} is below min ${min}`);
  return { p, min, max };
}

/** Per image: the magnitude when the image is picked (probability p), else `identity`. */
function draws(n: number, r: AugmentRange, random: Random, identity: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const picked = random.next() < r.p;
    const v = random.uniform(r.min, r.max);
    out[i] = picked ? v : identity;
  }
  return out;
}

/** tf.tidy for ops whose result is a 4D batch (tfjs's op typings lose the rank). */
const tidy4 = (fn: () => tf.Tensor): tf.Tensor4D => tf.tidy(fn) as tf.Tensor4D;

// ---------------------------------------------------------------------------------------------
// Geometric: one projective warp per batch

type Mat3 = [number, number, number, number, number, number, number, number, number];
const I3: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
function mul(a: Mat3, b: Mat3): Mat3 {
  const o = new Array<number>(9) as Mat3;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) o[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
  return o;
}

/**
 * Inverse matrix (output pixel -> input pixel, centred coordinates) of one op for one image,
 * or undefined when the image is not picked. Forward: the op as the user sees it.
 */
function inverseOf(op: GeometricOp, r: AugmentRange, random: Random, w: number, h: number): Mat3 | undefined {
  const picked = random.next() < r.p;
  const m = random.uniform(r.min, r.max);
  const sign = random.next() < 0.5 ? -1 : 1;
  const u = random.next();
  const v = random.next();
  if (!picked) return undefined;
  switch (op) {
    case 'flip-h':
      return [-1, 0, 0, 0, 1, 0, 0, 0, 1];
    case 'flip-v':
      return [1, 0, 0, 0, -1, 0, 0, 0, 1];
    case 'scale':
      return [1 / m, 0, 0, 0, 1 / m, 0, 0, 0, 1];
    case 'crop': {
      // Keep a window of m x the size at a random place, stretched back to the full size.
      const ox = (u - 0.5) * (1 - m) * w;
      const oy = (v - 0.5) * (1 - m) * h;
      return [m, 0, ox, 0, m, oy, 0, 0, 1];
    }
    case 'translate': {
      const tx = (2 * u - 1) * m * w;
      const ty = (2 * v - 1) * m * h;
      return [1, 0, -tx, 0, 1, -ty, 0, 0, 1];
    }
    case 'rotate': {
      const a = (sign * m * Math.PI) / 180;
      const c = Math.cos(a);
      const s = Math.sin(a);
      return [c, s, 0, -s, c, 0, 0, 0, 1];
    }
    case 'stretch': {
      const f = Math.sqrt(m);
      return sign > 0 ? [1 / f, 0, 0, 0, f, 0, 0, 0, 1] : [f, 0, 0, 0, 1 / f, 0, 0, 0, 1];
    }
    case 'shear': {
      const k = Math.tan((sign * m * Math.PI) / 180);
      return u < 0.5 ? [1, -k, 0, 0, 1, 0, 0, 0, 1] : [1, 0, 0, -k, 1, 0, 0, 0, 1];
    }
    default: {
      const never: never = op;
      throw new Error(`unknown geometric op ${String(never)}`);
    }
  }
}

/**
 * The 8 `tf.image.transform` coefficients per image for the ops applied in order. Exported for
 * tests; consumes the same random numbers as `geometric` does.
 */
export function geometricMatrices(n: number, h: number, w: number, params: GeometricParams, random: Random): { matrices: Float32Array; identity: boolean } {
  const out = new Float32Array(n * 8);
  const ops = params.ops.map((o) => ({ op: o.op, r: rangeOf(o.op, o as unknown as Record<string, unknown>) }));
  let identity = true;
  // Centre of the pixel grid: output pixel (x, y) has centred coordinates (x - cx, y - cy).
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const toCentred: Mat3 = [1, 0, -cx, 0, 1, -cy, 0, 0, 1];
  const fromCentred: Mat3 = [1, 0, cx, 0, 1, cy, 0, 0, 1];
  for (let i = 0; i < n; i++) {
    // Forward is op_k ∘ … ∘ op_1, so the inverse is inv_1 · … · inv_k (applied to output points).
    let m = I3;
    for (const { op, r } of ops) {
      const inv = inverseOf(op, r, random, w, h);
      if (inv) m = mul(m, inv);
    }
    if (m !== I3) identity = false;
    const full = mul(fromCentred, mul(m, toCentred));
    const k = full[8];
    out.set([full[0] / k, full[1] / k, full[2] / k, full[3] / k, full[4] / k, full[5] / k, full[6] / k, full[7] / k], i * 8);
  }
  return { matrices: out, identity };
}

/**
 * Samples every image of x once through its own source-coordinate map: the lens distortion k
 * (0 = none) then the 8 projective coefficients (`tf.image.transform`'s), bilinear, with the
 * fill mode at the borders. On wasm this is the DlflowRemap kernel (one pass over the heap);
 * elsewhere the same loop runs on the tensor's data.
 */
export function remap(x: tf.Tensor4D, matrices: Float32Array, lensK: Float32Array, fill: GeometricFill): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (matrices.length !== n * 8 || lensK.length !== n) throw new Error(`remap: expected ${n} matrices and lens factors, got ${matrices.length / 8} and ${lensK.length}`);
  const params = new Float32Array(n * REMAP_PARAMS);
  for (let i = 0; i < n; i++) {
    params.set(matrices.subarray(i * 8, i * 8 + 8), i * REMAP_PARAMS);
    params[i * REMAP_PARAMS + 8] = lensK[i];
  }
  if (x.dtype === 'float32' && tf.getKernel(REMAP_KERNEL, tf.getBackend()))
    return tidy4(() => tf.engine().runKernel(REMAP_KERNEL, { image: x, params: tf.tensor2d(params, [n, REMAP_PARAMS]) }, { fillMode: fill }) as tf.Tensor);
  const out = new Float32Array(n * h * w * c);
  remapBilinear(x.dataSync() as Float32Array, out, n, h, w, c, params, fill);
  return tf.tensor4d(out, x.shape);
}

/**
 * Applies a chain of geometric ops as one projective warp per image, and the lens distortion
 * that follows them when the step carries one: one sampling pass per batch for the lot.
 */
export function geometric(x: tf.Tensor4D, params: GeometricParams, random: Random): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const { matrices, identity } = geometricMatrices(n, h, w, params, random);
  const k = params.lens ? draws(n, params.lens, random, 0) : new Float32Array(n);
  if (identity && k.every((v) => v === 0)) return x.clone();
  return remap(x, matrices, k, params.fill ?? 'reflect');
}

// ---------------------------------------------------------------------------------------------
// Lens distortion on its own (not after a geometric step): the same remap with no warp

const IDENTITY_MATRIX = [1, 0, 0, 0, 1, 0, 0, 0];
function lens(x: tf.Tensor4D, r: AugmentRange, random: Random): tf.Tensor4D {
  const n = x.shape[0];
  const k = draws(n, r, random, 0);
  if (k.every((v) => v === 0)) return x.clone();
  const matrices = new Float32Array(n * 8);
  for (let i = 0; i < n; i++) matrices.set(IDENTITY_MATRIX, i * 8);
  // The lens clamps its source points to the image, so the fill mode never shows.
  return remap(x, matrices, k, 'nearest');
}

// ---------------------------------------------------------------------------------------------
// Pixel kinds: one pass over the picked images' values
//
// Each of these reads the batch's values once, changes only the images its probability picked
// (in place, image by image, in a single loop per image that does all of the kind's arithmetic)
// and makes one new tensor. On wasm, the equivalent chains of tensor ops cost 5-10 full passes
// over the batch each (broadcasting binary ops, randomNormal, resizeBilinear to full size), and
// running them on only the picked images needed stack/gather copies on top.

/**
 * A copy of x whose values `edit` changes in place ([n, h, w, c] row-major). On wasm this is the
 * DlflowImageEdit kernel: the edit runs on the output tensor's own memory, so a pass costs one
 * copy on the heap and nothing else; elsewhere, the tensor's values are read, edited and uploaded.
 */
function withEdit(x: tf.Tensor4D, edit: (values: Float32Array) => void): tf.Tensor4D {
  if (x.dtype === 'float32' && tf.getKernel(IMAGE_EDIT_KERNEL, tf.getBackend()))
    return tf.engine().runKernel(IMAGE_EDIT_KERNEL, { image: x }, { edit } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  // cpu hands out its own store from dataSync: edit a copy.
  const values = Float32Array.from(x.dataSync());
  edit(values);
  return tf.tensor4d(values, x.shape);
}

/**
 * Calls `edit` on each image whose draw differs from `identity`, with that image's values (a
 * view, [h, w, c], to change in place), and returns the batch as a new tensor.
 */
function editImages(x: tf.Tensor4D, values: Float32Array, identity: number, edit: (img: Float32Array, v: number, i: number) => void): tf.Tensor4D {
  if (values.every((v) => v === identity)) return x.clone();
  const [n, h, w, c] = x.shape;
  const per = h * w * c;
  return withEdit(x, (data) => {
    for (let i = 0; i < n; i++) if (values[i] !== identity) edit(data.subarray(i * per, (i + 1) * per), values[i], i);
  });
}

/**
 * Fills `out` with uniform numbers in [0, 1) from a seeded mulberry32 stream. The generator
 * state is a local of this loop: behind a closure, every 32-bit update and every returned double
 * would be a heap allocation (millions per batch).
 */
function fillUniform(out: Float32Array, seed: number, stream: number): void {
  let a = Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b);
  for (let i = 0; i < out.length; i++) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/**
 * Reusable scratch arrays for the per-pixel passes (noise fields, blur rows, weather maps): one
 * batch would otherwise allocate megabytes of short-lived typed arrays, whose off-heap memory
 * keeps the garbage collector's background threads busy. Slots are only used during one
 * synchronous pass; 0-2 by the kinds, 3-4 by `fillNormal`.
 */
const scratchSlots: Float32Array[] = [];
function scratch(slot: number, size: number): Float32Array {
  if (!scratchSlots[slot] || scratchSlots[slot].length < size) scratchSlots[slot] = new Float32Array(size);
  return scratchSlots[slot].subarray(0, size);
}

const NORMALS = 4096;
/**
 * Fills `out` with standard normal samples: a table of 4096 exact Box-Muller draws read at
 * random indices, two 12-bit indices per generator step (instead of a log and a cosine each).
 */
function fillNormal(out: Float32Array, seed: number, stream: number): void {
  const u = scratch(3, NORMALS);
  fillUniform(u, seed, stream);
  const table = scratch(4, NORMALS);
  for (let i = 0; i < NORMALS; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u[i]));
    const angle = 2 * Math.PI * u[i + 1];
    table[i] = r * Math.cos(angle);
    table[i + 1] = r * Math.sin(angle);
  }
  let a = Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(stream + 0x10001, 0x85ebca6b);
  for (let i = 0; i < out.length; i += 2) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    t ^= t >>> 14;
    out[i] = table[t & (NORMALS - 1)];
    if (i + 1 < out.length) out[i + 1] = table[(t >>> 12) & (NORMALS - 1)];
  }
}

const clip01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
const LUMA = [0.299, 0.587, 0.114];

function noise(x: tf.Tensor4D, r: AugmentRange, random: Random): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const s = draws(n, r, random, 0);
  const seed = random.seed();
  const field = scratch(0, h * w * c);
  return editImages(x, s, 0, (img, sigma, i) => {
    fillNormal(field, seed, i);
    for (let j = 0; j < img.length; j++) img[j] = clip01(img[j] + sigma * field[j]);
  });
}

/** Normalised Gaussian taps for sigma, radius limited so a reflected border stays inside the image. */
function gaussianTaps(sigma: number, h: number, w: number): Float32Array | undefined {
  const radius = Math.min(Math.ceil(2.5 * sigma), Math.floor((Math.min(h, w) - 1) / 2));
  if (!(sigma > 0) || radius < 1) return undefined;
  const taps = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const sum = taps.reduce((a, b) => a + b, 0);
  return Float32Array.from(taps, (t) => t / sum);
}

/** Reflected index (border pixel not repeated), as `mirrorPad(..., 'reflect')`. */
const reflectIndex = (i: number, len: number): number => (i < 0 ? -i : i >= len ? 2 * len - 2 - i : i);

/**
 * Separable Gaussian blur of one [h, w, c] image in place, reflected borders; `tmp` is scratch
 * of the same size. Inner loops run along whole rows (contiguous multiply-adds).
 */
function blurImage(img: Float32Array, tmp: Float32Array, h: number, w: number, c: number, k: Float32Array): void {
  const radius = (k.length - 1) / 2;
  const stride = w * c;
  // Rows into tmp: the interior as shifted row sums, the border pixels with reflected taps.
  for (let y = 0; y < h; y++) {
    const row = y * stride;
    const lo = row + radius * c;
    const hi = row + (w - radius) * c;
    // The kernel is symmetric: one multiply per pair of taps.
    const k0 = k[radius];
    for (let j = lo; j < hi; j++) tmp[j] = k0 * img[j];
    for (let t = 1; t <= radius; t++) {
      const kt = k[radius + t];
      const shift = t * c;
      for (let j = lo; j < hi; j++) tmp[j] += kt * (img[j - shift] + img[j + shift]);
    }
    for (let x = 0; x < w; x++) {
      if (x === radius) x = Math.max(x, w - radius);
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let t = 0; t < k.length; t++) acc += k[t] * img[row + reflectIndex(x + t - radius, w) * c + ch];
        tmp[row + x * c + ch] = acc;
      }
    }
  }
  // Columns back into img.
  for (let y = 0; y < h; y++) {
    const out = y * stride;
    const k0 = k[radius];
    for (let j = 0; j < stride; j++) img[out + j] = k0 * tmp[out + j];
    for (let t = 1; t <= radius; t++) {
      const kt = k[radius + t];
      const above = reflectIndex(y - t, h) * stride;
      const below = reflectIndex(y + t, h) * stride;
      for (let j = 0; j < stride; j++) img[out + j] += kt * (tmp[above + j] + tmp[below + j]);
    }
  }
}

/** Separable Gaussian blur with reflected borders. */
export function gaussianBlur(x: tf.Tensor4D, sigma: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const k = gaussianTaps(sigma, h, w);
  if (!k) return x.clone();
  const tmp = scratch(0, h * w * c);
  return editImages(x, new Float32Array(n).fill(1), 0, (img) => blurImage(img, tmp, h, w, c, k));
}

function blur(x: tf.Tensor4D, r: AugmentRange, random: Random): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const pick = draws(n, { ...r, min: 1, max: 1 }, random, 0);
  const sigma = random.uniform(r.min, r.max);
  const k = gaussianTaps(sigma, h, w);
  if (!k) return x.clone();
  const tmp = scratch(0, h * w * c);
  return editImages(x, pick, 0, (img) => blurImage(img, tmp, h, w, c, k));
}

function cutout(x: tf.Tensor4D, r: AugmentRange, random: Random): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const size = draws(n, r, random, 0);
  const cx = new Float32Array(n);
  const cy = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    cx[i] = random.next();
    cy[i] = random.next();
  }
  // Only the cut pixels are touched.
  return editImages(x, size, 0, (img, s, i) => {
    if (s <= 0) return;
    const x0 = Math.max(0, Math.round((cx[i] - s / 2) * w));
    const x1 = Math.min(w, Math.round((cx[i] + s / 2) * w));
    const y0 = Math.max(0, Math.round((cy[i] - s / 2) * h));
    const y1 = Math.min(h, Math.round((cy[i] + s / 2) * h));
    for (let y = y0; y < y1; y++) img.fill(0, (y * w + x0) * c, (y * w + Math.max(x0, x1)) * c);
  });
}

// ---------------------------------------------------------------------------------------------
// Weather and light

/**
 * Bilinear upsampling of a [lh, lw] map to [h, w] into `out`, like `tf.image.resizeBilinear`
 * (alignCorners as given, no half-pixel centres).
 */
function upsample(low: Float32Array, lh: number, lw: number, out: Float32Array, h: number, w: number, alignCorners: boolean): void {
  const sy = alignCorners && h > 1 ? (lh - 1) / (h - 1) : lh / h;
  const sx = alignCorners && w > 1 ? (lw - 1) / (w - 1) : lw / w;
  for (let y = 0; y < h; y++) {
    const fy = y * sy;
    const y0 = Math.min(lh - 1, Math.floor(fy));
    const y1 = Math.min(lh - 1, y0 + 1);
    const ty = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = x * sx;
      const x0 = Math.min(lw - 1, Math.floor(fx));
      const x1 = Math.min(lw - 1, x0 + 1);
      const tx = fx - x0;
      const top = low[y0 * lw + x0] + (low[y0 * lw + x1] - low[y0 * lw + x0]) * tx;
      const bottom = low[y1 * lw + x0] + (low[y1 * lw + x1] - low[y1 * lw + x0]) * tx;
      out[y * w + x] = top + (bottom - top) * ty;
    }
  }
}

function fog(x: tf.Tensor4D, r: AugmentRange, random: Random): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const t = draws(n, r, random, 0);
  const seed = random.seed();
  const cells = 4;
  const field = scratch(0, h * w);
  return editImages(x, t, 0, (img, tv, i) => {
    // A smooth random field (4x4 cells upsampled), denser towards the top (the horizon in road
    // scenes), patchy, milky grey-white.
    const low = new Float32Array(cells * cells);
    fillUniform(low, seed, i);
    upsample(low, cells, cells, field, h, w, true);
    for (let y = 0; y < h; y++) {
      const height = 1.15 - 0.5 * ((y + 0.5) / h);
      for (let xx = 0; xx < w; xx++) {
        const a = Math.min(0.95, Math.max(0, (field[y * w + xx] * 0.5 + 0.5) * height * tv));
        const o = (y * w + xx) * c;
        for (let ch = 0; ch < c; ch++) img[o + ch] = img[o + ch] * (1 - a) + 0.82 * a;
      }
    }
  });
}

function rain(x: tf.Tensor4D, r: AugmentRange, random: Random): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const t = draws(n, r, random, 0);
  const seed = random.seed();
  const slant = random.uniform(-0.4, 0.4);
  // Streaks are drawn on a grid of at most ~80 px and scaled up: drops scattered at low
  // resolution, each drawn as a slanted line.
  const f = Math.max(1, Math.floor(Math.min(h, w) / 80));
  const lh = Math.ceil(h / f);
  const lw = Math.ceil(w / f);
  const len = Math.max(3, Math.round(Math.min(lh, lw) / 8)) | 1;
  const half = (len - 1) / 2;
  const cols = Int32Array.from({ length: len }, (_, k) => Math.min(len - 1, Math.max(0, Math.round(half + slant * (k - half)))));
  const low = scratch(0, lh * lw);
  const cellRandom = scratch(1, lh * lw);
  const streaks = scratch(2, h * w);
  const tint = c === 3 ? [0.02, 0.03, 0.06] : [0];
  return editImages(x, t, 0, (img, tv, i) => {
    fillUniform(cellRandom, seed, i);
    const threshold = 1 - tv * 0.02;
    low.fill(0);
    for (let y = 0; y < lh; y++)
      for (let xx = 0; xx < lw; xx++) {
        if (cellRandom[y * lw + xx] <= threshold) continue;
        // The line through the drop, as a 'same' convolution of the drop map with the line kernel.
        for (let k = 0; k < len; k++) {
          const yy = y - k + half;
          const xc = xx - cols[k] + half;
          if (yy >= 0 && yy < lh && xc >= 0 && xc < lw) low[yy * lw + xc] = 1;
        }
      }
    if (f > 1) upsample(low, lh, lw, streaks, h, w, false);
    const src = f > 1 ? streaks : low;
    const dim = c === 3 ? (1 - tv * 0.25) * (1 - tv * 0.1) : 1 - tv * 0.25;
    for (let p = 0; p < h * w; p++) {
      const s = src[p] * tv * 0.55;
      for (let ch = 0; ch < c; ch++) img[p * c + ch] = clip01(img[p * c + ch] * dim + (c === 3 ? tv * tint[ch] : 0) + s);
    }
  });
}

function snow(x: tf.Tensor4D, r: AugmentRange, random: Random): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const t = draws(n, r, random, 0);
  const seed = random.seed();
  // Flakes on a coarser grid (about 64 px), grown to 3x3 and scaled up softly.
  const f = Math.max(1, Math.floor(Math.min(h, w) / 64));
  const lh = Math.ceil(h / f);
  const lw = Math.ceil(w / f);
  const low = scratch(0, lh * lw);
  const cellRandom = scratch(1, lh * lw);
  const flakes = scratch(2, h * w);
  return editImages(x, t, 0, (img, tv, i) => {
    fillUniform(cellRandom, seed, i);
    const threshold = 1 - tv * 0.012;
    low.fill(0);
    for (let y = 0; y < lh; y++)
      for (let xx = 0; xx < lw; xx++) {
        if (cellRandom[y * lw + xx] <= threshold) continue;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy;
            const xc = xx + dx;
            if (yy >= 0 && yy < lh && xc >= 0 && xc < lw) low[yy * lw + xc] = 1;
          }
      }
    if (f > 1) upsample(low, lh, lw, flakes, h, w, false);
    const src = f > 1 ? flakes : low;
    const keep = 1 - tv * 0.3;
    const haze = tv * 0.3 * 0.9;
    const bright = tv * 0.4 + 0.6;
    for (let p = 0; p < h * w; p++) {
      const flake = src[p] * bright;
      for (let ch = 0; ch < c; ch++) img[p * c + ch] = clip01(Math.max(img[p * c + ch] * keep + haze, flake));
    }
  });
}

const GAMMA_STEPS = 1024;
function night(x: tf.Tensor4D, r: AugmentRange, random: Random): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const t = draws(n, r, random, 0);
  const seed = random.seed();
  const curve = new Float32Array(GAMMA_STEPS + 2);
  const field = scratch(0, h * w);
  return editImages(x, t, 0, (img, tv, i) => {
    // Darker, more contrast in the shadows (gamma, from a table with linear interpolation), a
    // blue cast, and luminance sensor noise.
    const gamma = 1 + tv * 0.8;
    const scale = 1 - tv * 0.75;
    for (let k = 0; k <= GAMMA_STEPS; k++) curve[k] = Math.pow(k / GAMMA_STEPS + 1e-4, gamma) * scale;
    curve[GAMMA_STEPS + 1] = curve[GAMMA_STEPS];
    const tint = c === 3 ? [1 - 0.2 * tv, 1 - 0.1 * tv, 1 + 0.15 * tv] : [1];
    fillNormal(field, seed, i);
    const sigma = tv * 0.03;
    for (let p = 0; p < h * w; p++) {
      const e = field[p] * sigma;
      for (let ch = 0; ch < c; ch++) {
        const u = clip01(img[p * c + ch]) * GAMMA_STEPS;
        const k = u | 0;
        const g = curve[k] + (curve[k + 1] - curve[k]) * (u - k);
        img[p * c + ch] = clip01(g * tint[ch] + e);
      }
    }
  });
}

export const COLOUR_KINDS = ['brightness', 'contrast', 'saturation', 'hue'] as const;
export type ColourKind = (typeof COLOUR_KINDS)[number];
export const isColour = (kind: string): kind is ColourKind => (COLOUR_KINDS as readonly string[]).includes(kind);
const COLOUR_IDENTITY: Record<ColourKind, number> = { brightness: 0, contrast: 1, saturation: 1, hue: 0 };

/** Row-major 3x3 matrix (acting on column RGB vectors) rotating hue by `deg` degrees in YIQ. */
function hueMatrix(deg: number): number[] {
  const toYiq = [0.299, 0.587, 0.114, 0.596, -0.274, -0.322, 0.211, -0.523, 0.312];
  const fromYiq = [1, 0.956, 0.621, 1, -0.272, -0.647, 1, -1.106, 1.703];
  const a = (deg * Math.PI) / 180;
  const rot = [1, 0, 0, 0, Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a)];
  return matMul3(fromYiq, matMul3(rot, toYiq));
}
function matMul3(a: number[], b: number[]): number[] {
  const o = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) o[r * 3 + c] += a[r * 3 + k] * b[k * 3 + c];
  return o;
}

/**
 * Brightness, contrast, saturation and hue, in the given order, composed into one affine colour
 * map per image (a CxC matrix and an offset): one pass over the pixels for the lot. Contrast pivots on
 * the image's mean luma, tracked through the earlier ops; the result is clipped once, at the end.
 */
export function colour(x: tf.Tensor4D, ops: readonly (AugmentRange & { op: ColourKind })[], random: Random): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const vals = ops.map((o) => draws(n, o, random, COLOUR_IDENTITY[o.op]));
  const active = ops.map((o, k) => (c === 3 || o.op === 'brightness' || o.op === 'contrast') && vals[k].some((v) => v !== COLOUR_IDENTITY[o.op]));
  if (!active.some(Boolean)) return x.clone();
  return withEdit(x, (data) => {
    const per = h * w * c;
    // Image means, needed only where a contrast op changes the image.
    const means = new Float32Array(n * c);
    for (let i = 0; i < n; i++) {
      if (!ops.some((o, k) => o.op === 'contrast' && active[k] && vals[k][i] !== 1)) continue;
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let j = i * per + ch; j < (i + 1) * per; j += c) sum += data[j];
        means[i * c + ch] = sum / (h * w);
      }
    }
    const mats = new Float32Array(n * c * c);
    const offs = new Float32Array(n * c);
    const luma = (v: number[]): number => (c === 3 ? LUMA[0] * v[0] + LUMA[1] * v[1] + LUMA[2] * v[2] : v[0]);
    const apply = (m: number[], v: number[]): number[] => v.map((_, r) => v.reduce((s, vk, k) => s + m[r * c + k] * vk, 0));
    for (let i = 0; i < n; i++) {
      let M = c === 3 ? [1, 0, 0, 0, 1, 0, 0, 0, 1] : [1];
      let b = new Array<number>(c).fill(0);
      let mu = Array.from(means.subarray(i * c, (i + 1) * c));
      ops.forEach((o, k) => {
        // Unpicked: exactly nothing (hueMatrix(0) is the identity only to about 1e-3).
        if (!active[k] || vals[k][i] === COLOUR_IDENTITY[o.op]) return;
        const v = vals[k][i];
        switch (o.op) {
          case 'brightness':
            b = b.map((bk) => bk + v);
            mu = mu.map((mk) => mk + v);
            break;
          case 'contrast': {
            const m = luma(mu);
            M = M.map((e) => e * v);
            b = b.map((bk) => v * bk + (1 - v) * m);
            mu = mu.map((mk) => v * mk + (1 - v) * m);
            break;
          }
          case 'saturation':
          case 'hue': {
            const S = o.op === 'hue' ? hueMatrix(v) : [0, 1, 2, 3, 4, 5, 6, 7, 8].map((e) => (Math.floor(e / 3) === e % 3 ? v : 0) + (1 - v) * LUMA[e % 3]);
            M = matMul3(S, M);
            b = apply(S, b);
            mu = apply(S, mu);
            break;
          }
          default: {
            const never: never = o.op;
            throw new Error(`unknown colour op ${String(never)}`);
          }
        }
      });
      // Row vectors: y = x · M^T + b.
      for (let r = 0; r < c; r++) for (let k = 0; k < c; k++) mats[i * c * c + k * c + r] = M[r * c + k];
      offs.set(b, i * c);
    }
    // One pass: y = clip(x · M^T + b) per pixel.
    for (let i = 0; i < n; i++) {
      if (!ops.some((o, k) => active[k] && vals[k][i] !== COLOUR_IDENTITY[o.op])) continue;
      const m = mats.subarray(i * c * c, (i + 1) * c * c);
      const o = offs.subarray(i * c, (i + 1) * c);
      const end = (i + 1) * per;
      if (c === 3) {
        const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = m;
        const [o0, o1, o2] = o;
        for (let j = i * per; j < end; j += 3) {
          const r = data[j];
          const g = data[j + 1];
          const b = data[j + 2];
          data[j] = clip01(r * m00 + g * m10 + b * m20 + o0);
          data[j + 1] = clip01(r * m01 + g * m11 + b * m21 + o1);
          data[j + 2] = clip01(r * m02 + g * m12 + b * m22 + o2);
        }
      } else {
        // Other channel counts: each pixel through a small buffer (its inputs must stay unchanged).
        const staged = new Float32Array(c);
        for (let j = i * per; j < end; j += c) {
          for (let r = 0; r < c; r++) {
            let acc = o[r];
            for (let k = 0; k < c; k++) acc += data[j + k] * m[k * c + r];
            staged[r] = acc;
          }
          for (let r = 0; r < c; r++) data[j + r] = clip01(staged[r]);
        }
      }
    }
  });
}

/** Parses and validates a fused colour step's params. */
export function colourOpsOf(params: Record<string, unknown>): (AugmentRange & { op: ColourKind })[] {
  const ops = params.ops;
  if (!Array.isArray(ops)) throw new Error('colour augmentation: ops must be a list');
  return (ops as Record<string, unknown>[]).map((o) => {
    if (!isColour(String(o.op))) throw new Error(`colour augmentation: unknown op "${String(o.op)}" (${COLOUR_KINDS.join(', ')})`);
    return { op: o.op as ColourKind, ...rangeOf(String(o.op), o) };
  });
}

const PIXEL_FNS: Record<PixelKind, (x: tf.Tensor4D, r: AugmentRange, random: Random) => tf.Tensor4D> = {
  lens,
  brightness: (x, r, random) => colour(x, [{ op: 'brightness', ...r }], random),
  contrast: (x, r, random) => colour(x, [{ op: 'contrast', ...r }], random),
  saturation: (x, r, random) => colour(x, [{ op: 'saturation', ...r }], random),
  hue: (x, r, random) => colour(x, [{ op: 'hue', ...r }], random),
  noise,
  blur,
  cutout,
  fog,
  rain,
  snow,
  night,
};

// ---------------------------------------------------------------------------------------------
// Registration and chains

/** Parses and validates a geometric step's params. */
export function geometricParamsOf(params: Record<string, unknown>): GeometricParams {
  const ops = params.ops;
  if (!Array.isArray(ops)) throw new Error('geometric augmentation: ops must be a list');
  for (const o of ops as Record<string, unknown>[]) {
    if (!isGeometric(String(o.op))) throw new Error(`geometric augmentation: unknown op "${String(o.op)}" (${GEOMETRIC_OPS.join(', ')})`);
    rangeOf(String(o.op), o);
  }
  const fill = (params.fill ?? 'reflect') as GeometricFill;
  if (!['reflect', 'constant', 'nearest'].includes(fill)) throw new Error(`geometric augmentation: fill "${fill}" is not reflect, constant or nearest`);
  const lensParams = params.lens;
  if (lensParams !== undefined && (typeof lensParams !== 'object' || lensParams === null)) throw new Error('geometric augmentation: lens must be {p, min, max}');
  const lensRange = lensParams ? rangeOf('lens', lensParams as Record<string, unknown>) : undefined;
  return { ops: ops as GeometricParams['ops'], fill, ...(lensRange ? { lens: lensRange } : {}) };
}

registerAugmentation('geometric', (x, params, random) => geometric(x, geometricParamsOf(params), random));
registerAugmentation('colour', (x, params, random) => colour(x, colourOpsOf(params), random));
for (const op of GEOMETRIC_OPS)
  registerAugmentation(op, (x, params, random) => geometric(x, { ops: [{ op, ...rangeOf(op, params) }], fill: params.fill as GeometricFill }, random));
for (const kind of PIXEL_KINDS) registerAugmentation(kind, (x, params, random) => PIXEL_FNS[kind](x, rangeOf(kind, params), random));

/** Looks an implementation up by kind (for applying chains outside `batchTensors`). */
export function applyStep(x: tf.Tensor4D, step: AugmentStep, random: Random): tf.Tensor4D {
  if (step.kind === 'geometric') return geometric(x, geometricParamsOf(step.params), random);
  if (step.kind === 'colour') return colour(x, colourOpsOf(step.params), random);
  if (isGeometric(step.kind)) return geometric(x, { ops: [{ op: step.kind, ...rangeOf(step.kind, step.params) }], fill: step.params.fill as GeometricFill }, random);
  if ((PIXEL_KINDS as readonly string[]).includes(step.kind)) return PIXEL_FNS[step.kind as PixelKind](x, rangeOf(step.kind, step.params), random);
  throw new Error(`unknown augmentation "${step.kind}"`);
}

/** Applies steps in order to a [0, 1] batch; returns a new tensor (x is not disposed). */
export function applyChain(x: tf.Tensor4D, steps: readonly AugmentStep[], random: Random): tf.Tensor4D {
  return tidy4(() => {
    let t = x;
    for (const s of steps) t = applyStep(t, s, random);
    return t === x ? x.clone() : t;
  });
}

/**
 * Appends augmentation kinds to a chain. Consecutive geometric ops merge into the trailing
 * `geometric` step, so a chain of geometric nodes still costs one warp per batch; a lens
 * distortion right after them joins that step too (same sampling pass); consecutive
 * brightness/contrast/saturation/hue merge into one `colour` step (one matMul per batch).
 */
export function appendSteps(chain: readonly AugmentStep[] | undefined, add: readonly { kind: AugmentKind; range: AugmentRange }[], fill: GeometricFill = 'reflect'): AugmentStep[] {
  const out = [...(chain ?? [])];
  for (const { kind, range } of add) {
    if (isGeometric(kind)) {
      const last = out[out.length - 1];
      const op = { op: kind, p: range.p, min: range.min, max: range.max };
      if (last?.kind === 'geometric' && (last.params.fill ?? 'reflect') === fill && last.params.lens === undefined)
        out[out.length - 1] = { kind: 'geometric', params: { ...last.params, ops: [...(last.params.ops as unknown[]), op] } };
      else out.push({ kind: 'geometric', params: { ops: [op], fill } });
    } else if (kind === 'lens' && out[out.length - 1]?.kind === 'geometric' && out[out.length - 1].params.lens === undefined) {
      // Lens right after the warp: sampled in the same pass (one remap per batch for both).
      const last = out[out.length - 1];
      out[out.length - 1] = { kind: 'geometric', params: { ...last.params, lens: { p: range.p, min: range.min, max: range.max } } };
    } else if (isColour(kind)) {
      const last = out[out.length - 1];
      const op = { op: kind, p: range.p, min: range.min, max: range.max };
      if (last?.kind === 'colour') out[out.length - 1] = { kind: 'colour', params: { ops: [...(last.params.ops as unknown[]), op] } };
      else out.push({ kind: 'colour', params: { ops: [op] } });
    } else out.push({ kind, params: { p: range.p, min: range.min, max: range.max } });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Preview

/**
 * A seeded grid: `images` source images (from the train subset when there is one), one row
 * each, the original first and then `draws` augmented versions. The same seed gives the same
 * grid; each draw is a fresh random source derived from it.
 */
export function augmentPreview(d: Dataset, steps: readonly AugmentStep[], seed: number, opts: { images?: number; draws?: number; title?: string } = {}): ImageGridPreview {
  const count = Math.min(opts.images ?? 4, d.count);
  const nDraws = opts.draws ?? 5;
  const pool = d.subsets.train?.length ? d.subsets.train : Int32Array.from({ length: d.count }, (_, i) => i);
  // One image per class first, so the grid shows variety.
  const picked: number[] = [];
  const seen = new Set<number>();
  for (const i of pool) {
    if (picked.length >= count) break;
    if (!seen.has(d.labels[i])) {
      seen.add(d.labels[i]);
      picked.push(i);
    }
  }
  for (const i of pool) {
    if (picked.length >= count) break;
    if (!picked.includes(i)) picked.push(i);
  }
  const [h, w, c] = d.imageShape;
  const factor = Math.max(1, Math.floor(96 / Math.max(h, w)));
  const columns: Uint8Array[][] = [];
  const original = d.store.read(picked);
  columns.push(picked.map((_, k) => original.subarray(k * h * w * c, (k + 1) * h * w * c)));
  for (let j = 0; j < nDraws; j++) {
    const random = createRandom(hashString(`augment-preview:${seed}:${j}`));
    const t = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(original, (v) => v / 255), [picked.length, h, w, c]);
      return applyChain(x, steps, random).mul(255).round().clipByValue(0, 255);
    });
    const u8 = Uint8Array.from(t.dataSync());
    t.dispose();
    columns.push(picked.map((_, k) => u8.subarray(k * h * w * c, (k + 1) * h * w * c)));
  }
  const images: ImageGridPreview['images'] = [];
  picked.forEach((idx, k) =>
    columns.forEach((col, j) => {
      const px = upscale(col[k], w, h, c, factor);
      images.push({ png: encodePng(px, w * factor, h * factor, c), width: w * factor, height: h * factor, caption: j === 0 ? `${d.classes[d.labels[idx]]} (original)` : `draw ${j}` });
    }),
  );
  return { kind: 'image-grid', title: opts.title ?? `${steps.length} augmentation step${steps.length === 1 ? '' : 's'}, seed ${seed}`, columns: nDraws + 1, images };
}
