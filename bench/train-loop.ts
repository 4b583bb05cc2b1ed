/**
 * Training throughput through the training node vs a bare `model.fit` on the same model, data
 * and backend, in the same process. Prints one JSON object per line; the last line has the ratio.
 *
 *   node --import tsx bench/train-loop.ts [--backend wasm] [--images 1024] [--size 32] [--epochs 3] [--batch 32] [--workers 1,2]
 *
 * `--workers` lists the node's worker-thread settings to time (default 1: the in-process loop);
 * each is reported with process CPU seconds (all threads) next to wall seconds.
 *
 * Both sides: Adam, the same initial weights, shuffled batches, no validation; the first epoch
 * of each side is a warm-up and not counted. The node side includes everything the node does
 * per batch (pixels → float batch, loss read-back, NaN check, progress, curves, checkpoints).
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../main/engine/backend/select.ts';
import { createRandom } from '../main/engine/random.ts';
import type { RunContext } from '../main/engine/node-api.ts';
import { CancelledError } from '../main/engine/errors.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dataset } from '../nodes/_lib/dataset.ts';
import { IDENTITY_NORMALIZATION, batchTensors, subsetIndices } from '../nodes/_lib/dataset.ts';
import { cloneModel } from '../nodes/_lib/model.ts';
import type { ModelValue, TrainedModel } from '../nodes/_lib/ports.ts';
import { sampleSigns } from '../nodes/data/sample-signs.node.ts';
import { split } from '../nodes/data/split.node.ts';
import { simpleCnn } from '../nodes/model/simple-cnn.node.ts';
import { trainClassifier } from '../nodes/train/train-classifier.node.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const images = Number(arg('images', '1024'));
const size = Number(arg('size', '32'));
const epochs = Number(arg('epochs', '3'));
const batchSize = Number(arg('batch', '32'));
const rounds = Number(arg('rounds', '2'));
const workerSettings = arg('workers', '1').split(',');
/** Images per CPU-second: robust to other processes on the machine (the wasm backend runs on this thread). */
const cpuRates = { fit: [] as number[], node: [] as number[] };
const byWorkers = new Map<string, number[]>();

function context(seed: number): RunContext {
  const controller = new AbortController();
  return {
    signal: controller.signal,
    progress: () => {},
    preview: () => {},
    log: () => {},
    random: createRandom(seed),
    cacheDir: mkdtempSync(join(tmpdir(), 'dlflow-bench-')),
    baseDir: process.cwd(),
    nodeId: 'bench',
    allowCode: false,
    onCleanup: () => {},
    throwIfCancelled: () => {
      if (controller.signal.aborted) throw new CancelledError();
    },
  };
}

const emit = (o: Record<string, unknown>): void => console.log(JSON.stringify(o));

/** Bare model.fit with all data as one tensor up front (the most favourable case for fit). */
async function timeFit(model: ModelValue, dataset: Dataset, n: number, round: number): Promise<number> {
  const fitModel = await cloneModel(model.model);
  fitModel.compile({ optimizer: tf.train.adam(0.001), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const { x, y } = batchTensors(dataset, subsetIndices(dataset, 'train'), { normalization: IDENTITY_NORMALIZATION(3) });
  const yf = y.toFloat();
  const epochTimes: number[] = [];
  const epochCpu: number[] = [];
  let t = performance.now();
  let cpu = process.cpuUsage();
  await fitModel.fit(x, yf, {
    epochs: epochs + 1,
    batchSize,
    shuffle: true,
    verbose: 0,
    callbacks: {
      onEpochEnd: async () => {
        const now = performance.now();
        const used = process.cpuUsage(cpu);
        epochTimes.push((now - t) / 1000);
        epochCpu.push((used.user + used.system) / 1e6);
        t = now;
        cpu = process.cpuUsage();
      },
    },
  });
  // The first epoch is a warm-up (kernel set-up, weight packing).
  const seconds = epochTimes.slice(1).reduce((a, b) => a + b, 0);
  const cpuSeconds = epochCpu.slice(1).reduce((a, b) => a + b, 0);
  const rate = (n * epochs) / seconds;
  emit({ side: 'model.fit', round, epochSeconds: epochTimes.map((e) => +e.toFixed(3)), seconds: +seconds.toFixed(3), imagesPerSecond: +rate.toFixed(1), cpuSeconds: +cpuSeconds.toFixed(3), imagesPerCpuSecond: +((n * epochs) / cpuSeconds).toFixed(1) });
  cpuRates.fit.push((n * epochs) / cpuSeconds);
  x.dispose();
  y.dispose();
  yf.dispose();
  fitModel.dispose();
  return rate;
}

/** The training node: a one-epoch warm-up run, then the timed run (wall clock, all overheads included). */
async function timeNode(model: ModelValue, dataset: Dataset, n: number, round: number, workers: string): Promise<number> {
  const params = { batchSize, learningRate: 0.001, seed: 1, workers };
  const warm = (await trainClassifier.run({ model, dataset }, { ...params, epochs: 1 }, context(1))) as { trainedModel: TrainedModel };
  warm.trainedModel.model.dispose();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const out = (await trainClassifier.run({ model, dataset }, { ...params, epochs }, context(1))) as { trainedModel: TrainedModel };
  const wall = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const rate = (n * epochs) / wall;
  emit({
    side: 'train-classifier node',
    workers,
    round,
    seconds: +wall.toFixed(3),
    imagesPerSecond: +rate.toFixed(1),
    cpuSeconds: +cpuSeconds.toFixed(3),
    imagesPerCpuSecond: +((n * epochs) / cpuSeconds).toFixed(1),
    epochSeconds: out.trainedModel.history.epochs.map((e) => +e.seconds.toFixed(3)),
    finalLoss: out.trainedModel.history.epochs.at(-1)?.loss,
  });
  if (workers === workerSettings[0]) cpuRates.node.push((n * epochs) / cpuSeconds);
  byWorkers.set(workers, [...(byWorkers.get(workers) ?? []), rate]);
  out.trainedModel.model.dispose();
  return rate;
}

async function main(): Promise<void> {
  const backend = await selectBackend(arg('backend', process.env.DLFLOW_BACKEND ?? 'wasm'));
  const { dataset: raw } = (await sampleSigns.run({}, { count: images, size, classes: 4, difficulty: 0.3, seed: 1 }, context(1))) as { dataset: Dataset };
  const { dataset } = (await split.run({ dataset: raw }, { validation: 0, test: 0, stratify: true, seed: 1 }, context(1))) as { dataset: Dataset };
  const { model } = (await simpleCnn.run({ dataset }, { blocks: 2, filters: 16, kernelSize: 3, denseUnits: 64, dropout: 0.25, seed: 1 }, context(1))) as { model: ModelValue };
  const n = subsetIndices(dataset, 'train').length;
  emit({ bench: 'train-loop', backend: backend.name, images: n, size, epochs, batchSize, params: model.model.countParams() });

  const fitRates: number[] = [];
  const nodeRates: number[] = [];
  // Alternate the two sides so load from other processes hits both alike.
  for (let round = 1; round <= rounds; round++) {
    fitRates.push(await timeFit(model, dataset, n, round));
    for (const w of workerSettings) {
      const rate = await timeNode(model, dataset, n, round, w);
      if (w === workerSettings[0]) nodeRates.push(rate);
    }
  }
  const best = (a: number[]): number => Math.max(...a);
  model.model.dispose();
  emit({
    result: 'ratio',
    nodeOverFit: +(best(nodeRates) / best(fitRates)).toFixed(3),
    perRound: nodeRates.map((r, i) => +(r / fitRates[i]).toFixed(3)),
    nodeOverFitCpu: +(best(cpuRates.node) / best(cpuRates.fit)).toFixed(3),
    note: 'best node throughput / best model.fit throughput (wall clock; and per CPU-second, which other load does not skew); 1 = no overhead',
  });
  if (workerSettings.length > 1)
    emit({
      result: 'workers',
      bestImagesPerSecond: Object.fromEntries([...byWorkers].map(([w, r]) => [w, +Math.max(...r).toFixed(1)])),
      note: `node throughput per worker setting (the node side of the ratio above uses workers=${workerSettings[0]})`,
    });
}

await main();
