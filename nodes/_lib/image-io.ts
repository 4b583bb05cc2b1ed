/**
 * Image decoding for the loaders: sharp for every format it reads (JPEG, PNG incl. 16-bit, WebP,
 * GIF, TIFF), a small BMP reader for the one common format sharp's prebuilt libvips lacks; EXIF
 * orientation applied, alpha flattened, resized to one shape with a choice of fit.
 *
 * Decoded, resized pixels go to a content-addressed cache on disk (key: hash of the file's bytes
 * and the target shape), so a second run, or a second process, skips decoding. Datasets built
 * here read their pixels back from those cache files per batch (`createDecodedFileStore`): only
 * file names and a few numbers per image stay in memory, never the decoded set.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { ImageShape, ImageStore, StoreDescriptor } from './dataset.ts';
import { registerStoreKind } from './dataset.ts';

/** How an image of another aspect ratio is brought to the target shape. */
export type FitMode = 'stretch' | 'crop' | 'letterbox';
export const FIT_MODES: readonly FitMode[] = ['stretch', 'crop', 'letterbox'];

export interface DecodeTarget {
  width: number;
  height: number;
  /** 1 = greyscale, 3 = RGB. Alpha is flattened onto black. */
  channels: 1 | 3;
  fit: FitMode;
}

export interface DecodedImage {
  /** HWC uint8 pixels of the target shape. */
  pixels: Uint8Array;
  /** Size of the source image after EXIF orientation, for size/aspect reports. */
  sourceWidth: number;
  sourceHeight: number;
}

/** File extensions the loaders treat as images (lower case, no dot). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['jpg', 'jpeg', 'jpe', 'png', 'webp', 'gif', 'bmp', 'dib', 'tif', 'tiff']);

export function isImageFile(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.has(name.slice(dot + 1).toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// BMP

const isBmp = (b: Uint8Array): boolean => b.length >= 26 && b[0] === 0x42 && b[1] === 0x4d;

/**
 * Decodes uncompressed BMP (1/4/8-bit palette, 16-bit 555, 24-bit, 32-bit BI_RGB/BITFIELDS
 * with the usual masks) to RGB. Throws a message saying what is unsupported or truncated.
 */
export function decodeBmp(b: Uint8Array): { data: Uint8Array; width: number; height: number } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const need = (n: number): void => {
    if (n > b.length) throw new Error(`truncated BMP (needs ${n} bytes, has ${b.length})`);
  };
  need(54);
  const dataOffset = v.getUint32(10, true);
  const headerSize = v.getUint32(14, true);
  if (headerSize < 40) throw new Error(`unsupported BMP header size ${headerSize}`);
  const width = v.getInt32(18, true);
  const rawHeight = v.getInt32(22, true);
  const bpp = v.getUint16(28, true);
  const compression = v.getUint32(30, true);
  if (width <= 0 || rawHeight === 0 || width > 65535 || Math.abs(rawHeight) > 65535) throw new Error(`bad BMP size ${width}x${rawHeight}`);
  if (compression !== 0 && !(compression === 3 && (bpp === 32 || bpp === 16)))
    throw new Error(`compressed BMP (method ${compression}) is not supported`);
  const height = Math.abs(rawHeight);
  const bottomUp = rawHeight > 0;
  const stride = Math.ceil((width * bpp) / 32) * 4;
  need(dataOffset + stride * height);
  let palette: Uint8Array | undefined;
  if (bpp <= 8) {
    const colors = v.getUint32(46, true) || 1 << bpp;
    const at = 14 + headerSize;
    need(at + colors * 4);
    palette = b.subarray(at, at + colors * 4);
  }
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (bottomUp ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      let r: number, g: number, bl: number;
      if (bpp === 24 || bpp === 32) {
        const p = row + x * (bpp / 8);
        bl = b[p];
        g = b[p + 1];
        r = b[p + 2];
      } else if (bpp === 16) {
        const px = v.getUint16(row + x * 2, true);
        r = ((px >> 10) & 31) * 8.226;
        g = ((px >> 5) & 31) * 8.226;
        bl = (px & 31) * 8.226;
      } else if (palette && (bpp === 8 || bpp === 4 || bpp === 1)) {
        const bit = x * bpp;
        const byte = b[row + (bit >> 3)];
        const idx = bpp === 8 ? byte : (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        if (idx * 4 + 2 >= palette.length) throw new Error(`BMP palette index ${idx} out of range`);
        bl = palette[idx * 4];
        g = palette[idx * 4 + 1];
        r = palette[idx * 4 + 2];
      } else throw new Error(`BMP with ${bpp} bits per pixel is not supported`);
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = bl;
    }
  }
  return { data: out, width, height };
}

// ---------------------------------------------------------------------------------------------
// Decoding

const SHARP_FIT: Record<FitMode, 'fill' | 'cover' | 'contain'> = { stretch: 'fill', crop: 'cover', letterbox: 'contain' };

/**
 * Decodes one encoded image to the target shape. Truncated and corrupt files throw (sharp's
 * `failOn: 'error'`), so callers can skip and report them.
 */
export async function decodeImage(bytes: Uint8Array, target: DecodeTarget): Promise<DecodedImage> {
  let img: sharp.Sharp;
  let sourceWidth: number;
  let sourceHeight: number;
  if (isBmp(bytes)) {
    const bmp = decodeBmp(bytes);
    img = sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: 3 } });
    sourceWidth = bmp.width;
    sourceHeight = bmp.height;
  } else {
    img = sharp(bytes, { failOn: 'error', sequentialRead: true });
    const meta = await img.metadata();
    if (!meta.width || !meta.height) throw new Error('image has no size');
    // EXIF orientations 5-8 swap width and height once applied.
    const swap = (meta.orientation ?? 1) >= 5;
    sourceWidth = swap ? meta.height : meta.width;
    sourceHeight = swap ? meta.width : meta.height;
    img = img.rotate();
  }
  img = img
    .flatten({ background: '#000000' })
    .resize(target.width, target.height, { fit: SHARP_FIT[target.fit], position: 'centre', background: '#000000', kernel: 'lanczos3' });
  img = target.channels === 1 ? img.greyscale() : img.toColourspace('srgb');
  const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const pixels = fixChannels(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), info.channels, target.channels);
  if (pixels.length !== target.width * target.height * target.channels)
    throw new Error(`decoder returned ${info.width}x${info.height}x${info.channels}, expected ${target.width}x${target.height}x${target.channels}`);
  return { pixels, sourceWidth, sourceHeight };
}

/** Converts interleaved pixels between 1, 2, 3 and 4 channels (grey/RGB; alpha dropped). */
function fixChannels(px: Uint8Array, from: number, to: 1 | 3): Uint8Array {
  if (from === to) return px;
  const n = px.length / from;
  const out = new Uint8Array(n * to);
  for (let i = 0; i < n; i++) {
    if (to === 3) {
      const g = px[i * from];
      const rgb = from >= 3;
      out[i * 3] = g;
      out[i * 3 + 1] = rgb ? px[i * from + 1] : g;
      out[i * 3 + 2] = rgb ? px[i * from + 2] : g;
    } else {
      out[i] = from >= 3 ? Math.round(0.299 * px[i * from] + 0.587 * px[i * from + 1] + 0.114 * px[i * from + 2]) : px[i * from];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Content-addressed decoded-image cache

const MAGIC = 0x31464c44; // "DLF1"
const HEADER = 16;

/** SHA-1 of a file's bytes, hex: the identity of an image's content. */
export function contentHash(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}

const targetTag = (t: DecodeTarget): string => `${t.width}x${t.height}x${t.channels}-${t.fit}`;

/** Where the decoded form of content `hash` at `target` lives under `root`. */
export function cachePathOf(root: string, hash: string, target: DecodeTarget): string {
  return join(root, hash.slice(0, 2), `${hash}-${targetTag(target)}.px`);
}

/** Reads a cache entry's header: the source size. Undefined when missing or not a cache file. */
function readCacheHeader(path: string, expectedBytes: number): { sourceWidth: number; sourceHeight: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(HEADER);
    if (readSync(fd, head, 0, HEADER, 0) !== HEADER) return undefined;
    if (head.readUInt32LE(0) !== MAGIC || head.readUInt32LE(12) !== expectedBytes) return undefined;
    return { sourceWidth: head.readUInt32LE(4), sourceHeight: head.readUInt32LE(8) };
  } finally {
    closeSync(fd);
  }
}

async function writeCacheEntry(path: string, img: DecodedImage): Promise<void> {
  const head = Buffer.alloc(HEADER);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(img.sourceWidth, 4);
  head.writeUInt32LE(img.sourceHeight, 8);
  head.writeUInt32LE(img.pixels.length, 12);
  await mkdir(dirname(path), { recursive: true });
  // Write then rename: another process reading the same key sees a whole file or none.
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, Buffer.concat([head, img.pixels]));
  await rename(tmp, path);
}

// ---------------------------------------------------------------------------------------------
// Decoding many files

export interface DecodedFile {
  ok: true;
  /** The decoded-cache file holding the pixels. */
  cachePath: string;
  hash: string;
  sourceWidth: number;
  sourceHeight: number;
  /** True when it came from the cache without decoding. */
  cached: boolean;
}
export interface FailedFile {
  ok: false;
  reason: string;
}

export interface DecodeManyOptions {
  cacheRoot: string;
  /** Files decoded at once; sharp decodes on libuv's thread pool. Default: cores + 2. */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
}

/**
 * Decodes files to the target shape through the cache, in parallel with a concurrency limit.
 * Never throws for a bad file: its result says why it failed. Pixels are not returned, only
 * where they were cached, so memory stays flat however many files there are.
 */
export async function decodeFiles(files: readonly string[], target: DecodeTarget, opts: DecodeManyOptions): Promise<(DecodedFile | FailedFile)[]> {
  const results = new Array<DecodedFile | FailedFile>(files.length);
  const bytesPer = target.width * target.height * target.channels;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      if (opts.signal?.aborted) return;
      const i = next++;
      results[i] = await decodeOne(files[i], target, bytesPer, opts.cacheRoot);
      done++;
      opts.onProgress?.(done, files.length);
    }
  };
  const limit = Math.max(1, Math.min(opts.concurrency ?? availableParallelism() + 2, files.length));
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

async function decodeOne(file: string, target: DecodeTarget, bytesPer: number, root: string): Promise<DecodedFile | FailedFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    return { ok: false, reason: `unreadable: ${shortReason(error)}` };
  }
  if (bytes.length === 0) return { ok: false, reason: 'empty file' };
  const hash = contentHash(bytes);
  const cachePath = cachePathOf(root, hash, target);
  const hit = readCacheHeader(cachePath, bytesPer);
  if (hit) return { ok: true, cachePath, hash, cached: true, ...hit };
  let img: DecodedImage;
  try {
    img = await decodeImage(bytes, target);
  } catch (error) {
    return { ok: false, reason: shortReason(error) };
  }
  await writeCacheEntry(cachePath, img);
  return { ok: true, cachePath, hash, cached: false, sourceWidth: img.sourceWidth, sourceHeight: img.sourceHeight };
}

function shortReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^Input (buffer|file) (has corrupt header|contains unsupported image format)[:.]?\s*/i, (m) => (/unsupported/.test(m) ? 'unsupported or not an image' : 'corrupt: ')).split('\n')[0].slice(0, 200);
}

// ---------------------------------------------------------------------------------------------
// Stores

/** Where each image of a loaded dataset came from, for health reports. Kept with the store. */
export interface SourceInfo {
  /** Display path of each image (relative to the loader's folder or CSV). */
  files: string[];
  /** Content hash of each source file. */
  hashes: string[];
  /** Source width and height of each image, interleaved [w0, h0, w1, h1, ...]. */
  sizes: Uint32Array;
  /** Files that could not be read or decoded, with why. */
  skipped: { file: string; reason: string }[];
}

/** An ImageStore that also says where its images came from. */
export interface SourcedStore extends ImageStore {
  readonly sources?: SourceInfo;
}

/** The source info of a store, when its loader recorded one. */
export function storeSources(store: ImageStore): SourceInfo | undefined {
  return (store as SourcedStore).sources;
}

/**
 * A store that reads each image's pixels from its decoded-cache file on demand. Holds only the
 * paths. Saving packs the pixels into one file (`packed-file` kind) so a saved dataset does not
 * depend on the shared cache.
 */
export function createDecodedFileStore(cachePaths: readonly string[], shape: ImageShape, sources?: SourceInfo): SourcedStore {
  const [h, w, c] = shape;
  const per = h * w * c;
  const read = (indices: ArrayLike<number>): Uint8Array => {
    const out = new Uint8Array(indices.length * per);
    for (let i = 0; i < indices.length; i++) {
      const k = indices[i];
      if (!(k >= 0 && k < cachePaths.length)) throw new RangeError(`image index ${k} outside 0..${cachePaths.length - 1}`);
      readPixelsInto(cachePaths[k], out, i * per, per);
    }
    return out;
  };
  return {
    kind: 'decoded-files',
    count: cachePaths.length,
    shape,
    sizeBytes: cachePaths.reduce((n, p) => n + p.length * 2 + 16, 0),
    sources,
    read,
    save: (dir) => savePacked(dir, cachePaths.length, per, read, sources),
  };
}

function readPixelsInto(path: string, out: Uint8Array, at: number, per: number): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new Error(`decoded image ${path} is gone from the image cache (${shortReason(error)}); run the loader again`);
  }
  try {
    const got = readSync(fd, out, at, per, HEADER);
    if (got !== per) throw new Error(`decoded image ${path} is truncated (${got} of ${per} bytes)`);
  } finally {
    closeSync(fd);
  }
}

/** Writes `count` images into `dir/pixels.bin` in chunks, plus sources.json. */
async function savePacked(
  dir: string,
  count: number,
  per: number,
  read: (indices: ArrayLike<number>) => Uint8Array,
  sources?: SourceInfo,
): Promise<StoreDescriptor> {
  const handle = await open(join(dir, 'pixels.bin'), 'w');
  try {
    const chunk = Math.max(1, Math.floor((16 << 20) / per));
    for (let start = 0; start < count; start += chunk) {
      const idx = Array.from({ length: Math.min(chunk, count - start) }, (_, i) => start + i);
      await handle.write(read(idx), 0, idx.length * per, start * per);
    }
  } finally {
    await handle.close();
  }
  if (sources) await writeFile(join(dir, 'sources.json'), JSON.stringify({ ...sources, sizes: Array.from(sources.sizes) }));
  return { kind: 'packed-file', file: 'pixels.bin', sources: sources ? 'sources.json' : undefined };
}

/**
 * A store over one packed uint8 NHWC file, read with positioned reads per batch (nothing held in
 * memory). Used to reopen saved datasets and for large derived datasets.
 */
export function createPackedFileStore(path: string, count: number, shape: ImageShape, sources?: SourceInfo): SourcedStore {
  const [h, w, c] = shape;
  const per = h * w * c;
  const read = (indices: ArrayLike<number>): Uint8Array => {
    const out = new Uint8Array(indices.length * per);
    const fd = openSync(path, 'r');
    try {
      for (let i = 0; i < indices.length; i++) {
        const k = indices[i];
        if (!(k >= 0 && k < count)) throw new RangeError(`image index ${k} outside 0..${count - 1}`);
        const got = readSync(fd, out, i * per, per, k * per);
        if (got !== per) throw new Error(`${path} is truncated at image ${k}`);
      }
    } finally {
      closeSync(fd);
    }
    return out;
  };
  return {
    kind: 'packed-file',
    count,
    shape,
    sizeBytes: 64,
    sources,
    read,
    save: (dir) => savePacked(dir, count, per, read, sources),
  };
}

/**
 * Packs images produced chunk by chunk into a new file under `dir`, returning a packed-file
 * store over it. `produce(start, n)` returns the uint8 pixels of images start..start+n-1.
 */
export async function writePackedStore(
  path: string,
  count: number,
  shape: ImageShape,
  produce: (start: number, n: number) => Uint8Array | Promise<Uint8Array>,
  opts: { chunk?: number; sources?: SourceInfo; signal?: AbortSignal; onProgress?(done: number): void } = {},
): Promise<SourcedStore> {
  const per = shape[0] * shape[1] * shape[2];
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    const chunk = opts.chunk ?? Math.max(1, Math.floor((8 << 20) / per));
    for (let start = 0; start < count; start += chunk) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('cancelled');
      const n = Math.min(chunk, count - start);
      const px = await produce(start, n);
      if (px.length !== n * per) throw new Error(`writePackedStore: chunk at ${start} has ${px.length} bytes, expected ${n * per}`);
      await handle.write(px, 0, px.length, start * per);
      opts.onProgress?.(start + n);
    }
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  return createPackedFileStore(path, count, shape, opts.sources);
}

registerStoreKind('packed-file', async (dir, descriptor, shape) => {
  const file = typeof descriptor.file === 'string' ? descriptor.file : 'pixels.bin';
  let sources: SourceInfo | undefined;
  if (typeof descriptor.sources === 'string') {
    const raw = JSON.parse(await readFile(join(dir, descriptor.sources), 'utf8')) as Omit<SourceInfo, 'sizes'> & { sizes: number[] };
    sources = { ...raw, sizes: Uint32Array.from(raw.sizes) };
  }
  const path = join(dir, file);
  if (!existsSync(path)) throw new Error(`packed image file ${path} is missing`);
  const per = shape[0] * shape[1] * shape[2];
  const size = statSync(path).size;
  if (size % per !== 0) throw new Error(`${path} holds ${size} bytes, not a whole number of ${shape.join('x')} images`);
  return createPackedFileStore(path, size / per, shape, sources);
});

/** Default folder of the shared decoded-image cache, next to the engine's node folders. */
export function defaultImageCacheRoot(nodeCacheDir: string): string {
  return process.env.DLFLOW_IMAGE_CACHE ?? join(nodeCacheDir, '..', '..', 'images');
}

/** Derived stores up to this many bytes stay in memory; larger ones go to a packed file. */
export const MEMORY_STORE_LIMIT = 256 * 1024 * 1024;

/**
 * Builds a store of `count` images produced chunk by chunk: in memory when small, else a packed
 * file `pixels.bin` under `dir` (read lazily per batch). Either way it keeps `sources` and saves
 * as a `packed-file` store.
 */
export async function createStoreFrom(
  count: number,
  shape: ImageShape,
  produce: (start: number, n: number) => Uint8Array | Promise<Uint8Array>,
  opts: { dir: string; sources?: SourceInfo; chunk?: number; memoryLimit?: number; signal?: AbortSignal; onProgress?(done: number): void },
): Promise<SourcedStore> {
  const per = shape[0] * shape[1] * shape[2];
  const chunk = opts.chunk ?? Math.max(1, Math.floor((8 << 20) / per));
  if (count * per > (opts.memoryLimit ?? MEMORY_STORE_LIMIT))
    return writePackedStore(join(opts.dir, 'pixels.bin'), count, shape, produce, { chunk, sources: opts.sources, signal: opts.signal, onProgress: opts.onProgress });
  const pixels = new Uint8Array(count * per);
  for (let start = 0; start < count; start += chunk) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('cancelled');
    const n = Math.min(chunk, count - start);
    const px = await produce(start, n);
    if (px.length !== n * per) throw new Error(`createStoreFrom: chunk at ${start} has ${px.length} bytes, expected ${n * per}`);
    pixels.set(px, start * per);
    opts.onProgress?.(start + n);
  }
  const read = (indices: ArrayLike<number>): Uint8Array => {
    const out = new Uint8Array(indices.length * per);
    for (let i = 0; i < indices.length; i++) {
      const k = indices[i];
      if (!(k >= 0 && k < count)) throw new RangeError(`image index ${k} outside 0..${count - 1}`);
      out.set(pixels.subarray(k * per, (k + 1) * per), i * per);
    }
    return out;
  };
  return { kind: 'memory', count, shape, sizeBytes: pixels.byteLength, sources: opts.sources, read, save: (dir) => savePacked(dir, count, per, read, opts.sources) };
}

/** Reads images start..start+n-1 of a store. */
export function readRange(store: ImageStore, start: number, n: number): Uint8Array {
  return store.read(Array.from({ length: n }, (_, i) => start + i));
}
