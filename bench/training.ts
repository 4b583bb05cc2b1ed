/**
 * Training / inference throughput per backend, one JSON object per line:
 * { bench: "training", backend, model, mode, workers, batch, imagesPerSec, wallSeconds, cpuSeconds, ... }
 *
 *   node --import tsx bench/training.ts [--models=reference-cnn,mobilenet-96,dcgan]
 *        [--backends=wasm,cpu] [--workers=2] [--seconds=4] [--quick]
 *   node --import tsx bench/training.ts --ablation[=ROUNDS]   (Winograd vs direct convs, alternating)
 *
 * cpuSeconds is this process's CPU time (all threads) over the measured steps: on a busy machine
 * compare imagesPerSec together with cpuSeconds / wallSeconds.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { FusedAdam, registerWasmTrainingKernels } from '../main/engine/backend/wasm-kernels/index.ts';
import { winogradOptions } from '../main/engine/backend/wasm-kernels/winograd.ts';
import { DataParallelTrainer } from '../main/engine/parallel/index.ts';
import { cpuSecondsSince, isMain, printJson } from './_util.ts';

export type BenchModel = 'reference-cnn' | 'mobilenet-96' | 'dcgan';
export type BenchBackend = 'wasm' | 'cpu' | 'tensorflow';
export type BenchMode = 'train' | 'infer';

export interface TrainingBenchOptions {
  models?: BenchModel[];
  backends?: BenchBackend[];
  modes?: BenchMode[];
  /** Minimum measured seconds per wasm/tensorflow measurement (after warm-up). */
  seconds?: number;
  /** Batch size override (default per model). */
  batch?: number;
  /** Worker counts for data-parallel wasm training of the classifiers (default [2]; 1 = in-process). */
  workers?: number[];
  /** Called with each result as it is measured (default: print one JSON line). */
  onResult?: (result: TrainingBenchResult) => void;
}

export interface TrainingBenchResult {
  bench: 'training';
  backend: string;
  model: BenchModel;
  mode: BenchMode;
  workers: number;
  batch: number;
  steps: number;
  imagesPerSec: number;
  wallSeconds: number;
  cpuSeconds: number;
  /** Images per second of this process's CPU time: steadier than imagesPerSec on a busy machine. */
  imagesPerCpuSecond: number;
  optimizer?: string;
  tfjs: string;
}

interface Workload {
  /** One measured unit of work on `batch` images. */
  step: () => void;
  dispose: () => void;
}

/**
 * Seconds of steps before measuring, the same for one worker and for data-parallel replicas:
 * fresh replica threads start with a small wasm heap that grows over their first steps (first
 * page touches are slow here), and 3 steps did not reach their steady rate.
 */
const WARMUP_SECONDS = 2;

const DEFAULT_BATCH: Record<BenchModel, number> = { 'reference-cnn': 64, 'mobilenet-96': 32, dcgan: 64 };

/** conv32-pool-conv64-pool-dense128-dense10 on 28x28x1 (the reference CNN). */
export function referenceCnn(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

/** A MobileNet-v1-style stack of depthwise-separable blocks on 96x96x3. */
export function mobileNet96(): tf.Sequential {
  const layers: tf.layers.Layer[] = [
    tf.layers.conv2d({ inputShape: [96, 96, 3], filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
  ];
  const blocks: [number, number][] = [
    [32, 1],
    [64, 2],
    [64, 1],
    [128, 2],
    [128, 1],
    [256, 2],
  ];
  for (const [filters, strides] of blocks) {
    layers.push(tf.layers.depthwiseConv2d({ kernelSize: 3, strides, padding: 'same', activation: 'relu' }));
    layers.push(tf.layers.conv2d({ filters, kernelSize: 1, padding: 'same', activation: 'relu' }));
  }
  layers.push(tf.layers.globalAveragePooling2d({}), tf.layers.dense({ units: 10 }));
  return tf.sequential({ layers });
}

export function dcganModels(): { generator: tf.Sequential; discriminator: tf.Sequential } {
  const generator = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [100], units: 7 * 7 * 128 }),
      tf.layers.leakyReLU({ alpha: 0.2 }),
      tf.layers.reshape({ targetShape: [7, 7, 128] }),
      tf.layers.conv2dTranspose({ filters: 64, kernelSize: 5, strides: 2, padding: 'same' }),
      tf.layers.leakyReLU({ alpha: 0.2 }),
      tf.layers.conv2dTranspose({ filters: 1, kernelSize: 5, strides: 2, padding: 'same', activation: 'tanh' }),
    ],
  });
  const discriminator = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 64, kernelSize: 5, strides: 2, padding: 'same' }),
      tf.layers.leakyReLU({ alpha: 0.2 }),
      tf.layers.conv2d({ filters: 128, kernelSize: 5, strides: 2, padding: 'same' }),
      tf.layers.leakyReLU({ alpha: 0.2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 1 }),
    ],
  });
  return { generator, discriminator };
}

const trainableVars = (model: tf.LayersModel) => model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);

function classifierWorkload(model: tf.Sequential, batch: number, mode: BenchMode): Workload {
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  const xs = tf.randomNormal([batch, ...inputShape], 0, 1, 'float32', 1);
  const ys = tf.tidy(() => tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', 2), 10).toFloat());
  const optimizer = new FusedAdam(1e-3);
  const vars = trainableVars(model);
  const step =
    mode === 'train'
      ? () => {
          const loss = optimizer.minimize(
            () => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar,
            true,
            vars,
          )!;
          loss.dataSync();
          loss.dispose();
        }
      : () => {
          const out = model.predict(xs) as tf.Tensor;
          out.dataSync();
          out.dispose();
        };
  return {
    step,
    dispose: () => {
      tf.dispose([xs, ys]);
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** One DCGAN step: a discriminator update on real+fake, then a generator update. */
function dcganWorkload(batch: number, mode: BenchMode): Workload {
  const { generator, discriminator } = dcganModels();
  const real = tf.randomUniform([batch, 28, 28, 1], -1, 1, 'float32', 3);
  const ones = tf.ones([batch, 1]);
  const zeros = tf.zeros([batch, 1]);
  const gOpt = new FusedAdam(2e-4, 0.5);
  const dOpt = new FusedAdam(2e-4, 0.5);
  const gVars = trainableVars(generator);
  const dVars = trainableVars(discriminator);
  const bce = (labels: tf.Tensor, logits: tf.Tensor) => tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar;
  const step =
    mode === 'train'
      ? () => {
          const noise = tf.randomNormal([batch, 100]);
          const dLoss = dOpt.minimize(
            () => {
              const fake = generator.apply(noise, { training: true }) as tf.Tensor;
              const onReal = discriminator.apply(real, { training: true }) as tf.Tensor;
              const onFake = discriminator.apply(fake, { training: true }) as tf.Tensor;
              return bce(ones, onReal).add(bce(zeros, onFake)) as tf.Scalar;
            },
            true,
            dVars,
          )!;
          const gLoss = gOpt.minimize(
            () => bce(ones, discriminator.apply(generator.apply(noise, { training: true }), { training: true }) as tf.Tensor),
            true,
            gVars,
          )!;
          dLoss.dataSync();
          gLoss.dataSync();
          tf.dispose([noise, dLoss, gLoss]);
        }
      : () => {
          const images = tf.tidy(() => generator.predict(tf.randomNormal([batch, 100])) as tf.Tensor);
          images.dataSync();
          images.dispose();
        };
  return {
    step,
    dispose: () => {
      tf.dispose([real, ones, zeros]);
      gOpt.dispose();
      dOpt.dispose();
      generator.dispose();
      discriminator.dispose();
    },
  };
}

function workload(model: BenchModel, batch: number, mode: BenchMode): Workload {
  switch (model) {
    case 'reference-cnn':
      return classifierWorkload(referenceCnn(), batch, mode);
    case 'mobilenet-96':
      return classifierWorkload(mobileNet96(), batch, mode);
    case 'dcgan':
      return dcganWorkload(batch, mode);
    default: {
      const never: never = model;
      throw new Error(`unknown bench model ${String(never)}`);
    }
  }
}

async function useBackend(name: BenchBackend): Promise<boolean> {
  if (name === 'tensorflow') {
    try {
      const pkg = '@tensorflow/tfjs-node'; // optional dependency: often not installed
      await import(/* @vite-ignore */ pkg);
    } catch {
      return false;
    }
  }
  if (!(await tf.setBackend(name))) return false;
  if (name === 'wasm') registerWasmTrainingKernels();
  return true;
}

interface Timing {
  steps: number;
  wallSeconds: number;
  cpuSeconds: number;
}

/**
 * Warm-up (at least `warmupSteps` steps and `warmupSeconds`), then steps until at least
 * `minSteps` ran and `seconds` passed; wall and process CPU time of the measured part.
 */
async function timeSteps(
  step: () => unknown,
  { seconds, minSteps = 5, warmupSteps = 3, warmupSeconds = WARMUP_SECONDS }: { seconds: number; minSteps?: number; warmupSteps?: number; warmupSeconds?: number },
): Promise<Timing> {
  for (let i = 0, t = performance.now(); i < warmupSteps || performance.now() - t < warmupSeconds * 1000; i++) await step();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let steps = 0;
  while (steps < minSteps || performance.now() - t0 < seconds * 1000) {
    await step();
    steps++;
  }
  return { steps, wallSeconds: (performance.now() - t0) / 1000, cpuSeconds: cpuSecondsSince(cpu0) };
}

function trainingResult(
  what: { backend: string; model: BenchModel; mode: BenchMode; workers: number; batch: number },
  { steps, wallSeconds, cpuSeconds }: Timing,
): TrainingBenchResult {
  const images = steps * what.batch;
  return {
    bench: 'training',
    ...what,
    steps,
    imagesPerSec: Math.round((images / wallSeconds) * 10) / 10,
    wallSeconds: Math.round(wallSeconds * 1000) / 1000,
    cpuSeconds: Math.round(cpuSeconds * 1000) / 1000,
    imagesPerCpuSecond: Math.round((images / cpuSeconds) * 10) / 10,
    ...(what.mode === 'train' ? { optimizer: 'FusedAdam' } : {}),
    tfjs: tf.version.tfjs,
  };
}

/** Measures each (backend, model, mode); cpu runs only a couple of small steps (it is ~100x slower). */
export async function runTrainingBench(opts: TrainingBenchOptions = {}): Promise<TrainingBenchResult[]> {
  const models = opts.models ?? ['reference-cnn', 'mobilenet-96', 'dcgan'];
  const backends = opts.backends ?? ['wasm', 'cpu'];
  const modes = opts.modes ?? ['train', 'infer'];
  const seconds = opts.seconds ?? 4;
  const emit = opts.onResult ?? printJson;
  const results: TrainingBenchResult[] = [];
  const parallelWorkers = (opts.workers ?? [2]).filter((w) => w > 1);
  for (const backend of backends) {
    if (!(await useBackend(backend))) continue;
    for (const model of models) {
      // cpu: only the reference CNN, a few small steps; the others take minutes per step there.
      if (backend === 'cpu' && model !== 'reference-cnn') continue;
      for (const mode of modes) {
        const batch = backend === 'cpu' ? (mode === 'train' ? 8 : 32) : (opts.batch ?? DEFAULT_BATCH[model]);
        const work = workload(model, batch, mode);
        try {
          // cpu: no warm-up and a single step (it is ~500x slower).
          const timing = await timeSteps(work.step, backend === 'cpu' ? { seconds: 0, minSteps: 1, warmupSteps: 0, warmupSeconds: 0 } : { seconds });
          const result = trainingResult({ backend, model, mode, workers: 1, batch }, timing);
          results.push(result);
          emit(result);
        } finally {
          work.dispose();
        }
        if (backend !== 'wasm' || mode !== 'train' || model === 'dcgan') continue;
        for (const workers of parallelWorkers) {
          try {
            const result = await measureParallel(model, workers, opts.batch ?? DEFAULT_BATCH[model], seconds);
            results.push(result);
            emit(result);
          } catch (error) {
            // Keep stdout pure JSON lines; say on stderr why this measurement is missing.
            process.stderr.write(`bench/training: ${model} with ${workers} workers failed: ${error instanceof Error ? error.message : String(error)}\n`);
          }
        }
      }
    }
  }
  return results;
}

/** The same training step split across `workers` replica threads (gradients all-reduced). */
async function measureParallel(model: BenchModel, workers: number, batch: number, seconds: number): Promise<TrainingBenchResult> {
  const net = model === 'reference-cnn' ? referenceCnn() : mobileNet96();
  const inputShape = net.inputs[0].shape.slice(1) as number[];
  const xs = new Float32Array(batch * inputShape.reduce((a, b) => a * b, 1)).map(() => Math.random() * 2 - 1);
  const ys = new Float32Array(batch * 10);
  for (let b = 0; b < batch; b++) ys[b * 10 + (b % 10)] = 1;
  const trainer = await DataParallelTrainer.create({
    model: net,
    replicas: workers,
    backend: 'wasm',
    optimizer: { kind: 'adam', learningRate: 1e-3 },
    loss: 'softmaxCrossEntropy',
    maxBatch: batch,
  });
  net.dispose();
  try {
    const timing = await timeSteps(() => trainer.trainBatch(xs, ys, batch), { seconds });
    return trainingResult({ backend: 'wasm', model, mode: 'train', workers, batch }, timing);
  } finally {
    await trainer.dispose();
  }
}

/**
 * The reference CNN's one-worker training step with the wasm Winograd paths off ("direct": the
 * XNNPACK convolutions and the im2col filter gradient) and on, alternating rounds in one process
 * so both see the same machine; one line per round, then a summary with the median ratio.
 */
export async function runAblation(rounds: number, seconds: number, emit: (line: object) => void = printJson): Promise<number> {
  if (!(await useBackend('wasm'))) throw new Error('bench/training --ablation needs the wasm backend');
  const variants: Record<string, boolean> = { direct: false, winograd: true };
  const rates: Record<string, number[]> = { direct: [], winograd: [] };
  const work = workload('reference-cnn', DEFAULT_BATCH['reference-cnn'], 'train');
  try {
    for (let round = 1; round <= rounds; round++)
      for (const [variant, on] of Object.entries(variants)) {
        winogradOptions.forward = on;
        winogradOptions.filterGrad = on;
        const { imagesPerSec, wallSeconds, cpuSeconds } = trainingResult(
          { backend: 'wasm', model: 'reference-cnn', mode: 'train', workers: 1, batch: DEFAULT_BATCH['reference-cnn'] },
          await timeSteps(work.step, { seconds, warmupSeconds: 0 }),
        );
        rates[variant].push(imagesPerSec);
        emit({ bench: 'training-ablation', backend: 'wasm', model: 'reference-cnn', mode: 'train', workers: 1, variant, round, imagesPerSec, wallSeconds, cpuSeconds });
      }
  } finally {
    winogradOptions.forward = true;
    winogradOptions.filterGrad = true;
    work.dispose();
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  const ratio = Math.round((median(rates.winograd) / median(rates.direct)) * 100) / 100;
  emit({ bench: 'training-ablation-summary', model: 'reference-cnn', medianImagesPerSec: { direct: median(rates.direct), winograd: median(rates.winograd) }, ratio });
  return ratio;
}

function parseArgs(argv: string[]): TrainingBenchOptions & { ablation?: number } {
  const opts: TrainingBenchOptions & { ablation?: number } = {};
  for (const arg of argv) {
    const [key, value = ''] = arg.replace(/^--/, '').split('=');
    if (key === 'models') opts.models = value.split(',') as BenchModel[];
    else if (key === 'backends') opts.backends = value.split(',') as BenchBackend[];
    else if (key === 'modes') opts.modes = value.split(',') as BenchMode[];
    else if (key === 'seconds') opts.seconds = Number(value);
    else if (key === 'batch') opts.batch = Number(value);
    else if (key === 'workers') opts.workers = value.split(',').map(Number);
    else if (key === 'quick') opts.seconds = 1;
    else if (key === 'ablation') opts.ablation = value ? Number(value) : 3;
    else throw new Error(`bench/training: unknown option "${arg}"`);
  }
  return opts;
}

if (isMain(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.ablation) await runAblation(opts.ablation, opts.seconds ?? 4);
  else await runTrainingBench(opts);
}
