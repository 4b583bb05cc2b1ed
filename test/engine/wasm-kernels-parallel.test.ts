// Data-parallel training over worker_threads: same result as one worker, replicas identical, no leaks.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FusedAdam, registerWasmTrainingKernels } from '../../main/engine/backend/wasm-kernels/index.ts';
import { DataParallelTrainer, trainableFlags } from '../../main/engine/parallel/index.ts';
import { Tripwire } from './fixtures/tripwire-layer.ts';
import { values } from './_values.ts';

function smallCnn(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [10, 10, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: 'glorotUniform', seed: 1 } as never),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

const batch = 12;
// The last batch is short and splits unevenly (5 + 6): shard gradients must be weighted by size.
const batches = [12, 12, 12, 11].map((size, i) => {
  const xs = values(size * 100, 10 + i);
  const ys = new Float32Array(size * 3);
  for (let b = 0; b < size; b++) ys[b * 3 + (Math.floor((xs[b * 100] + 1) * 1.5) % 3)] = 1;
  return { xs, ys, size };
});

let trainer: DataParallelTrainer | undefined;

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
});

afterAll(async () => {
  await trainer?.dispose();
});

describe('data-parallel training', () => {
  it('matches single-worker training, keeps replicas identical and leaks nothing', async () => {
    const model = smallCnn();
    const start = model.getWeights().map((w) => w.dataSync().slice());
    trainer = await DataParallelTrainer.create({
      model,
      replicas: 2,
      backend: 'wasm',
      optimizer: { kind: 'adam', learningRate: 0.01 },
      loss: 'softmaxCrossEntropy',
      maxBatch: batch,
    });
    const parallelLoss: number[] = [];
    parallelLoss.push(await trainer.trainBatch(batches[0].xs, batches[0].ys, batch));
    const stats = await trainer.stats();
    for (const b of batches.slice(1)) parallelLoss.push(await trainer.trainBatch(b.xs, b.ys, b.size));
    expect(await trainer.stats()).toEqual(stats);
    const [w0, w1] = [await trainer.getWeights(0), await trainer.getWeights(1)];
    w0.forEach((w, i) => expect(Array.from(w1[i])).toEqual(Array.from(w)));

    // The same steps in this process, one worker.
    const optimizer = new FusedAdam(0.01);
    const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const serialLoss: number[] = [];
    for (const b of batches) {
      const loss = optimizer.minimize(
        () => {
          const x = tf.tensor(b.xs, [b.size, 10, 10, 1]);
          const y = tf.tensor(b.ys, [b.size, 3]);
          return tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar;
        },
        true,
        vars,
      )!;
      serialLoss.push(loss.dataSync()[0]);
      loss.dispose();
    }
    const serial = model.getWeights().map((w) => w.dataSync().slice());
    // syncTo copies replica 0 back into a model of the same architecture.
    const copy = smallCnn();
    await trainer.syncTo(copy);
    copy.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(w0[i])));
    copy.dispose();
    let err = 0;
    let moved = 0;
    serial.forEach((w, i) =>
      w.forEach((v, j) => {
        err = Math.max(err, Math.abs(v - w0[i][j]));
        moved = Math.max(moved, Math.abs(v - start[i][j]));
      }),
    );
    expect(err).toBeLessThan(1e-4);
    expect(moved).toBeGreaterThan(0.01);
    parallelLoss.forEach((l, i) => expect(l).toBeCloseTo(serialLoss[i], 4));
    optimizer.dispose();
    model.dispose();
  });

  it('cancels through an AbortSignal: pending and later steps reject', async () => {
    const model = smallCnn();
    const controller = new AbortController();
    const cancelled = await DataParallelTrainer.create({
      model,
      replicas: 2,
      optimizer: { kind: 'adam', learningRate: 0.01 },
      loss: 'softmaxCrossEntropy',
      maxBatch: batch,
      signal: controller.signal,
    });
    model.dispose();
    const pending = cancelled.trainBatch(batches[0].xs, batches[0].ys, batch);
    controller.abort();
    await expect(pending).rejects.toThrow(/disposed/);
    await expect(cancelled.trainBatch(batches[0].xs, batches[0].ys, batch)).rejects.toThrow(/disposed/);
  });

  it('rejects bad input clearly and tears the workers down on dispose', async () => {
    await expect(trainer!.trainBatch(new Float32Array(5), new Float32Array(3), 1)).rejects.toThrow(/expected 100 inputs/);
    await trainer!.dispose();
    await expect(trainer!.trainBatch(batches[0].xs, batches[0].ys, batch)).rejects.toThrow(/disposed/);
  });
});

describe('data-parallel training: the training loop\'s controls', () => {
  // Class indices (one float per example) for the classifier loss.
  const labels = batches.map((b) => Float32Array.from({ length: b.size }, (_, i) => b.ys.subarray(i * 3, i * 3 + 3).indexOf(1)));

  it('sets the learning rate per step, follows freezing, and hands optimiser state over exactly', async () => {
    const model = smallCnn();
    const loss = { kind: 'classifier' as const, numClasses: 3, labelSmoothing: 0.1, classWeights: [1, 2, 0.5], l2: 0.01 };
    const a = await DataParallelTrainer.create({ model, replicas: 2, optimizer: { kind: 'sgd', learningRate: 0.1, momentum: 0.9 }, loss, maxBatch: batch });
    try {
      const flatOf = async (t: DataParallelTrainer) => (await t.getWeights()).flatMap((w) => Array.from(w));
      const start = await flatOf(a);
      // Learning rate 0: nothing moves (and the momentum slots are created).
      const r0 = await a.step(batches[0].xs, labels[0], batch, { learningRate: 0 });
      expect(await flatOf(a)).toEqual(start);
      expect(r0.correct).toBeGreaterThanOrEqual(0);
      expect(r0.correct).toBeLessThanOrEqual(batch);
      const stats = await a.stats();
      await a.step(batches[1].xs, labels[1], batch, { learningRate: 0.05 });
      expect(await a.stats()).toEqual(stats);
      // Freeze the conv layer: its kernel stays, the dense layer trains, fewer parameters are exchanged.
      const total = a.paramCount;
      model.layers[0].trainable = false;
      await a.configure({ trainable: trainableFlags(model) });
      expect(a.paramCount).toBe(total - 4 * 9 - 4);
      // (getWeights lists trainable weights first, so find the conv kernel by size.)
      const conv = (ws: Float32Array[]): number[] => Array.from(ws.find((w) => w.length === 36)!);
      const dense = (ws: Float32Array[]): number[] => Array.from(ws.find((w) => w.length === 300)!);
      const before = await a.getWeights();
      await a.step(batches[2].xs, labels[2], batch, { learningRate: 0.05 });
      const after = await a.getWeights();
      expect(conv(after)).toEqual(conv(before));
      expect(dense(after)).not.toEqual(dense(before));
      // Bring b to a's state (weights through a model, optimiser through its slots): the next steps agree.
      const copy = smallCnn();
      copy.layers[0].trainable = false;
      await a.syncTo(copy);
      const c = await DataParallelTrainer.create({ model: copy, replicas: 2, optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9 }, loss, maxBatch: batch });
      try {
        await c.setOptimizerState(await a.getOptimizerState());
        for (const t of [a, c]) await t.step(batches[3].xs, labels[3], batches[3].size, { learningRate: 0.05 });
        const [wa, wc] = [await flatOf(a), await flatOf(c)];
        wa.forEach((v, i) => expect(wc[i]).toBeCloseTo(v, 6));
        // Without the slots (fresh momentum) the same step differs.
        const d = await DataParallelTrainer.create({ model: copy, replicas: 1, optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9 }, loss, maxBatch: batch });
        await d.step(batches[3].xs, labels[3], batches[3].size, { learningRate: 0.05 });
        const wd = await flatOf(d);
        expect(Math.max(...wd.map((v, i) => Math.abs(v - wa[i])))).toBeGreaterThan(1e-4);
        await d.dispose();
      } finally {
        await c.dispose();
        copy.dispose();
      }
    } finally {
      await a.dispose();
      model.dispose();
    }
    expect(DataParallelTrainer.liveWorkers).toBe(0);
  });

  it('a replica failing mid-step releases the others from the step barrier: the step rejects, no thread hangs', async () => {
    const model = tf.sequential({ layers: [new Tripwire({ inputShape: [4] } as never), tf.layers.dense({ units: 2 })] });
    const failing = await DataParallelTrainer.create({
      model,
      replicas: 2,
      optimizer: { kind: 'adam', learningRate: 0.01 },
      loss: 'meanSquaredError',
      maxBatch: 4,
      modules: [new URL('./fixtures/tripwire-layer.ts', import.meta.url).href],
    });
    model.dispose();
    try {
      const xs = values(16, 3);
      const ys = values(8, 4);
      await failing.trainBatch(xs, ys, 4); // a normal step first: the barrier works
      xs[12] = 999; // in the second replica's shard (examples 2..3)
      await expect(failing.trainBatch(xs, ys, 4)).rejects.toThrow(/data-parallel replica 1: tripwire: input held 999/);
      await expect(failing.trainBatch(values(16, 5), ys, 4)).rejects.toThrow(/replica 1/);
    } finally {
      await failing.dispose();
    }
    expect(DataParallelTrainer.liveWorkers).toBe(0);
  });

  it('fails clearly when a replica cannot build the model, leaving no thread behind', async () => {
    const model = smallCnn();
    await expect(
      DataParallelTrainer.create({ model, replicas: 2, optimizer: { kind: 'adam', learningRate: 0.01 }, loss: 'meanSquaredError', maxBatch: 4, modules: ['file:///nonexistent/custom-layer.ts'] }),
    ).rejects.toThrow(/data-parallel replica \d: .*nonexistent/);
    model.dispose();
    expect(DataParallelTrainer.liveWorkers).toBe(0);
  });
});
