import * as tf from '@tensorflow/tfjs';
import { defineNode } from '../../main/engine/node-api.ts';
import { NodeError } from '../../main/engine/errors.ts';
import { createRandom } from '../../main/engine/random.ts';
import { applyChain } from '../_lib/augment.ts';
import { previewParams } from '../_lib/augment-node.ts';
import { createDataset } from '../_lib/dataset.ts';
import { createStoreFrom, readRange } from '../_lib/image-io.ts';
import { encodePng, upscale } from '../_lib/png.ts';

export const materialiseAugmentations = defineNode({
  id: 'dlflow:augment:materialise-augmentations',
  name: 'Materialise augmentations',
  category: 'augment',
  description: [
    "Instead of augmenting on the fly, renders *copies* augmented versions of every training image",
    "with the dataset's augmentation chain (from the nodes before this one) and adds them to the",
    'train subset as new images. Validation and test images are never copied. The chain is then',
    'cleared (the copies already carry it) unless *keep on-the-fly chain* is on.',
    '',
    'Use it to inspect or export an enlarged set, or when augmenting is slower than training. The',
    'result is cached on disk; sets over 256 MB are stored in a file and read per batch.',
  ].join('\n'),
  inputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  params: {
    copies: { kind: 'integer', default: 2, min: 1, max: 50, label: 'Copies per image', inline: true },
    keepChain: { kind: 'boolean', default: false, label: 'Keep on-the-fly chain' },
    ...previewParams,
  },
  outputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  previews: ['image-grid'],
  persist: true,
  async run({ dataset }, p, ctx) {
    const steps = dataset.augment ?? [];
    if (steps.length === 0) throw new NodeError('the dataset has no augmentation steps to materialise; add augmentation nodes before this one', { port: 'dataset' });
    const train = dataset.subsets.train;
    if (!train || train.length === 0)
      throw new NodeError('materialise after a Split node, so augmented copies of validation images never land in training', { port: 'dataset' });
    const [h, w, c] = dataset.imageShape;
    const per = h * w * c;
    const total = dataset.count + p.copies * train.length;
    const random = createRandom(p.seed);
    const produce = (start: number, n: number): Uint8Array => {
      const out = new Uint8Array(n * per);
      // Originals first, unchanged.
      const nOrig = Math.max(0, Math.min(n, dataset.count - start));
      if (nOrig > 0) out.set(readRange(dataset.store, start, nOrig), 0);
      const sources: number[] = [];
      for (let k = start + nOrig; k < start + n; k++) sources.push(train[(k - dataset.count) % train.length]);
      if (sources.length > 0) {
        const px = dataset.store.read(sources);
        const aug = tf.tidy(() => {
          const x = tf.tensor4d(Float32Array.from(px, (v) => v / 255), [sources.length, h, w, c]);
          return applyChain(x, steps, random).mul(255).round().clipByValue(0, 255);
        });
        out.set(Uint8Array.from(aug.dataSync()), nOrig * per);
        aug.dispose();
      }
      return out;
    };
    const store = await createStoreFrom(total, dataset.imageShape, produce, {
      dir: ctx.cacheDir,
      chunk: 64,
      signal: ctx.signal,
      onProgress: (done) => ctx.progress(done / total, `${done}/${total} images`),
    });
    const labels = new Int32Array(total);
    labels.set(dataset.labels);
    for (let k = dataset.count; k < total; k++) labels[k] = dataset.labels[train[(k - dataset.count) % train.length]];
    const added = Int32Array.from({ length: total - dataset.count }, (_, i) => dataset.count + i);
    const newTrain = new Int32Array(train.length + added.length);
    newTrain.set(train);
    newTrain.set(added, train.length);
    ctx.log(`${added.length} augmented images added (${p.copies} per training image)`);
    return {
      dataset: createDataset({
        ...dataset,
        labels,
        subsets: { ...dataset.subsets, train: newTrain },
        augment: p.keepChain ? dataset.augment : undefined,
        store,
        origin: `${dataset.origin ?? 'dataset'} + ${p.copies}x augmented`,
      }),
    };
  },
  preview: ({ dataset }, p) => {
    // Each row: a training image, then its rendered copies.
    const train = dataset.subsets.train ?? new Int32Array(0);
    const t = Math.floor(train.length / (p.copies + 1));
    const orig = dataset.count - p.copies * t;
    const [h, w, c] = dataset.imageShape;
    const factor = Math.max(1, Math.floor(96 / Math.max(h, w)));
    const images = [];
    for (let j = 0; j < Math.min(p.previewImages, t); j++) {
      const row = [train[j], ...Array.from({ length: Math.min(p.copies, 5) }, (_, k) => orig + k * t + j)];
      for (const [col, idx] of row.entries()) {
        const px = upscale(dataset.store.read([idx]), w, h, c, factor);
        images.push({ png: encodePng(px, w * factor, h * factor, c), width: w * factor, height: h * factor, caption: col === 0 ? dataset.classes[dataset.labels[idx]] : `copy ${col}` });
      }
    }
    return { kind: 'image-grid' as const, title: `${dataset.count} images, ${train.length} in train (${p.copies * t} rendered copies)`, columns: Math.min(p.copies, 5) + 1, images };
  },
  summary: ({ dataset }) => `${dataset.count} images`,
});
