/**
 * Data-side figures: decode + resize throughput (cold, then from the decoded-image disk cache) on
 * a generated folder of JPEGs of varied sizes; augmentation throughput at 224x224x3 for a chain
 * with every kind; peak RSS while streaming a generated folder through one epoch of batches.
 *
 * Run: `node --import tsx bench/data.ts`. Prints one JSON object per line. Sizes by env:
 *   DLFLOW_BENCH_DECODE   images for the decode figures (default 600)
 *   DLFLOW_BENCH_STREAM   images for the streaming/RSS figure (default 3000; 20000 for the full check)
 *   DLFLOW_BENCH_DIR      where to generate (default a temp folder, removed afterwards)
 *   DLFLOW_BENCH_ONLY     comma-separated subset of decode,stream,augment
 *   DLFLOW_BENCH_PER_KIND 0 skips the per-kind augmentation timings
 * Figures per CPU-second are printed too: on a shared machine, load from other processes skews
 * wall-clock rates but not those.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../main/engine/backend/select.ts';
import { createRandom } from '../main/engine/random.ts';
import type { AugmentKind } from '../nodes/_lib/augment.ts';
import { AUGMENT_INFO, GEOMETRIC_OPS, PIXEL_KINDS, appendSteps, applyChain } from '../nodes/_lib/augment.ts';
import { batchIndices, batchTensors, createDataset, createMemoryStore } from '../nodes/_lib/dataset.ts';
import { createDecodedFileStore, decodeFiles } from '../nodes/_lib/image-io.ts';
import type { DecodeTarget } from '../nodes/_lib/image-io.ts';
import { drawSign } from '../nodes/_lib/signs.ts';
import { cpuSecondsSince, printJson } from './_util.ts';

const nDecode = Number(process.env.DLFLOW_BENCH_DECODE ?? 600);
const nStream = Number(process.env.DLFLOW_BENCH_STREAM ?? 3000);
const keep = process.env.DLFLOW_BENCH_DIR !== undefined;
const root = process.env.DLFLOW_BENCH_DIR ?? join(tmpdir(), `dlflow-bench-data-${process.pid}`);

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);
const mb = (b: number): number => Math.round(b / 2 ** 20);

/** Generates `n` JPEGs of varied sizes (120..900 px a side) in 5 class folders; reuses existing ones. */
async function generate(dir: string, n: number): Promise<string[]> {
  const rng = createRandom(3);
  const files: string[] = [];
  const t0 = performance.now();
  let made = 0;
  for (let i = 0; i < n; i++) {
    const cls = i % 5;
    const sub = join(dir, `class-${cls}`);
    const path = join(sub, `img-${String(i).padStart(6, '0')}.jpg`);
    const w = 120 + rng.int(780);
    const h = Math.round(w * rng.uniform(0.6, 1.4));
    files.push(path);
    if (existsSync(path)) continue;
    if (i < 5) mkdirSync(sub, { recursive: true });
    const px = new Uint8Array(48 * 48 * 3);
    drawSign(px, 0, 48, cls, 5, i, 0.5);
    writeFileSync(path, await sharp(px, { raw: { width: 48, height: 48, channels: 3 } }).resize(w, h, { fit: 'fill', kernel: 'cubic' }).jpeg({ quality: 85 }).toBuffer());
    made++;
  }
  if (made > 0) printJson({ bench: 'data', step: 'generate', images: made, seconds: +((performance.now() - t0) / 1000).toFixed(1) });
  return files;
}

async function decodeFigures(files: string[]): Promise<void> {
  for (const size of [64, 224]) {
    const target: DecodeTarget = { width: size, height: size, channels: 3, fit: 'crop' };
    const cacheRoot = join(root, `cache-${size}`);
    rmSync(cacheRoot, { recursive: true, force: true });
    let t = performance.now();
    let cpu = process.cpuUsage();
    const cold = await decodeFiles(files, target, { cacheRoot });
    const coldS = (performance.now() - t) / 1000;
    const coldCpu = cpuSecondsSince(cpu);
    t = performance.now();
    cpu = process.cpuUsage();
    const warm = await decodeFiles(files, target, { cacheRoot });
    const warmS = (performance.now() - t) / 1000;
    const warmCpu = cpuSecondsSince(cpu);
    printJson({
      bench: 'data',
      figure: 'decode+resize',
      target: `${size}x${size}x3`,
      images: files.length,
      failed: cold.filter((r) => !r.ok).length,
      coldImagesPerSecond: Math.round(files.length / coldS),
      cachedImagesPerSecond: Math.round(files.length / warmS),
      coldImagesPerCpuSecond: Math.round(files.length / coldCpu),
      cachedImagesPerCpuSecond: Math.round(files.length / warmCpu),
      fromCache: warm.filter((r) => r.ok && r.cached).length,
    });
  }
}

async function augmentFigure(): Promise<void> {
  const n = 32;
  const size = 224;
  const px = new Uint8Array(n * size * size * 3);
  for (let i = 0; i < n; i++) drawSign(px, i * size * size * 3, size, i % 6, 1, i, 0.3);
  const kinds = [...GEOMETRIC_OPS, ...PIXEL_KINDS] as AugmentKind[];
  const chain = appendSteps([], kinds.map((kind) => ({ kind, range: { p: AUGMENT_INFO[kind].p, min: AUGMENT_INFO[kind].range[0], max: AUGMENT_INFO[kind].range[1] } })));
  const dataset = createDataset({ classes: ['a', 'b', 'c', 'd', 'e', 'f'], labels: Int32Array.from({ length: n }, (_, i) => i % 6), subsets: {}, store: createMemoryStore(px, [size, size, 3]), augment: chain });
  const random = createRandom(1);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const once = (augment: boolean): void => {
    const { x, y } = batchTensors(dataset, idx, augment ? { augmentWith: random } : {});
    x.dataSync();
    x.dispose();
    y.dispose();
  };
  // Warm-up: the augmentations' per-pixel loops are JIT-compiled after a few batches; training
  // runs thousands, so the figures are for the steady state (both chains get the same warm-up).
  const warmup = 3;
  for (let r = 0; r < warmup; r++) once(true);
  const rounds = 6;
  let t = performance.now();
  let cpu = process.cpuUsage();
  for (let r = 0; r < rounds; r++) once(false);
  const plainS = (performance.now() - t) / 1000;
  const plainCpu = cpuSecondsSince(cpu);
  t = performance.now();
  cpu = process.cpuUsage();
  for (let r = 0; r < rounds; r++) once(true);
  const augS = (performance.now() - t) / 1000;
  const augCpu = cpuSecondsSince(cpu);
  // Every kind at probability 1, the worst case.
  const all = appendSteps([], kinds.map((kind) => ({ kind, range: { p: 1, min: AUGMENT_INFO[kind].range[0], max: AUGMENT_INFO[kind].range[1] } })));
  const worst = createDataset({ ...dataset, augment: all });
  for (let r = 0; r < warmup; r++) {
    const { x, y } = batchTensors(worst, idx, { augmentWith: random });
    x.dispose();
    y.dispose();
  }
  t = performance.now();
  cpu = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    const { x, y } = batchTensors(worst, idx, { augmentWith: random });
    x.dataSync();
    x.dispose();
    y.dispose();
  }
  const worstS = (performance.now() - t) / 1000;
  const worstCpu = cpuSecondsSince(cpu);
  printJson({
    bench: 'data',
    figure: 'augmentation',
    backend: tf.getBackend(),
    image: '224x224x3',
    batch: n,
    kinds: kinds.length,
    warpsPerBatch: all.filter((s) => s.kind === 'geometric').length,
    batchOnlyImagesPerSecond: Math.round((rounds * n) / plainS),
    chainDefaultProbabilitiesImagesPerSecond: Math.round((rounds * n) / augS),
    chainAllAtProbability1ImagesPerSecond: Math.round((rounds * n) / worstS),
    batchOnlyImagesPerCpuSecond: Math.round((rounds * n) / plainCpu),
    chainDefaultProbabilitiesImagesPerCpuSecond: Math.round((rounds * n) / augCpu),
    chainAllAtProbability1ImagesPerCpuSecond: Math.round((rounds * n) / worstCpu),
    tensorsLeft: tf.memory().numTensors,
  });
  if (process.env.DLFLOW_BENCH_PER_KIND !== '0') perKindFigure(dataset, idx);
}

/**
 * Each kind alone on the same 224x224x3 batch of 32 (already a float tensor, so only the
 * augmentation is timed): CPU-milliseconds per batch at the kind's default probability and at p = 1.
 */
function perKindFigure(dataset: ReturnType<typeof createDataset>, idx: Int32Array): void {
  const { x, y } = batchTensors(dataset, idx);
  y.dispose();
  const random = createRandom(2);
  const kinds = [...GEOMETRIC_OPS, ...PIXEL_KINDS] as AugmentKind[];
  const time = (steps: ReturnType<typeof appendSteps>): number => {
    const rounds = 3;
    applyChain(x, steps, random).dispose();
    const cpu = process.cpuUsage();
    for (let r = 0; r < rounds; r++) {
      const out = applyChain(x, steps, random);
      out.dataSync();
      out.dispose();
    }
    return Math.round((cpuSecondsSince(cpu) * 1000) / rounds);
  };
  const perKind: Record<string, { defaultP: number; p1: number }> = {};
  for (const kind of kinds) {
    const [min, max] = AUGMENT_INFO[kind].range;
    perKind[kind] = {
      defaultP: time(appendSteps([], [{ kind, range: { p: AUGMENT_INFO[kind].p, min, max } }])),
      p1: time(appendSteps([], [{ kind, range: { p: 1, min, max } }])),
    };
  }
  x.dispose();
  printJson({ bench: 'data', figure: 'augmentation-per-kind', backend: tf.getBackend(), image: '224x224x3', batch: idx.length, unit: 'CPU-ms per batch', perKind, tensorsLeft: tf.memory().numTensors });
}

async function streamFigure(files: string[]): Promise<void> {
  const size = 224;
  const target: DecodeTarget = { width: size, height: size, channels: 3, fit: 'crop' };
  const cacheRoot = join(root, 'cache-stream');
  peakRss = process.memoryUsage().rss;
  const startRss = peakRss;
  let t = performance.now();
  const results = await decodeFiles(files, target, { cacheRoot });
  const decodeS = (performance.now() - t) / 1000;
  const ok = results.filter((r) => r.ok);
  const store = createDecodedFileStore(ok.map((r) => r.cachePath), [size, size, 3]);
  const dataset = createDataset({ classes: ['0', '1', '2', '3', '4'], labels: Int32Array.from(files.filter((_, i) => results[i].ok).map((f) => Number(/class-(\d)/.exec(f)![1]))), subsets: {}, store });
  const afterDecodeRss = process.memoryUsage().rss;
  t = performance.now();
  let seen = 0;
  for (const idx of batchIndices(Int32Array.from({ length: dataset.count }, (_, i) => i), 64, createRandom(1))) {
    const { x, y } = batchTensors(dataset, idx, { normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } });
    // Stand-in for a training step: touch every value.
    tf.tidy(() => x.mean().dataSync());
    x.dispose();
    y.dispose();
    seen += idx.length;
  }
  const epochS = (performance.now() - t) / 1000;
  printJson({
    bench: 'data',
    figure: 'stream-epoch',
    images: dataset.count,
    target: `${size}x${size}x3`,
    decodedSetMB: mb(dataset.count * size * size * 3),
    decodedSetAsFloat32MB: mb(dataset.count * size * size * 3 * 4),
    decodeSeconds: +decodeS.toFixed(1),
    epochImagesPerSecond: Math.round(seen / epochS),
    startRssMB: mb(startRss),
    afterDecodeRssMB: mb(afterDecodeRss),
    peakRssMB: mb(peakRss),
    storeBytesInMemory: store.sizeBytes,
  });
}

try {
  await selectBackend(process.env.DLFLOW_BACKEND ?? 'wasm');
  mkdirSync(root, { recursive: true });
  const wantFiles = (process.env.DLFLOW_BENCH_ONLY ?? 'decode,stream').match(/decode|stream/) ? Math.max(nDecode, nStream) : 0;
  const files = await generate(join(root, 'images'), wantFiles);
  const only = (process.env.DLFLOW_BENCH_ONLY ?? 'decode,stream,augment').split(',');
  if (only.includes('decode')) await decodeFigures(files.slice(0, nDecode));
  // Streaming before the augmentation figure, whose 224x224 float batches grow the wasm heap.
  if (only.includes('stream')) await streamFigure(files.slice(0, nStream));
  if (only.includes('augment')) await augmentFigure();
} finally {
  clearInterval(sampler);
  if (!keep) rmSync(root, { recursive: true, force: true });
}
