import { defineNode } from '../../main/engine/node-api.ts';
import { createDataset, datasetPreview } from '../_lib/dataset.ts';
import type { ImageShape, Normalization } from '../_lib/dataset.ts';
import { createStoreFrom, readRange, storeSources } from '../_lib/image-io.ts';

/** Converts uint8 pixels between 1 (grey, ITU-R 601 luma) and 3 (RGB, grey copied) channels. */
export function convertChannels(px: Uint8Array, from: number, to: number): Uint8Array {
  if (from === to) return px;
  const n = px.length / from;
  const out = new Uint8Array(n * to);
  if (to === 3) for (let i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = px[i];
  else for (let i = 0; i < n; i++) out[i] = Math.round(0.299 * px[3 * i] + 0.587 * px[3 * i + 1] + 0.114 * px[3 * i + 2]);
  return out;
}

export const colourMode = defineNode({
  id: 'dlflow:preprocess:colour-mode',
  name: 'Colour mode',
  category: 'preprocess',
  description: [
    'Converts images to **greyscale** (1 channel, luma) or **RGB** (3 channels; grey is copied into',
    'each). Use greyscale when colour carries no information, or RGB to feed a greyscale set to a',
    'model (e.g. a pretrained backbone) that expects three channels. Normalisation, if already set,',
    'is converted with it.',
  ].join('\n'),
  inputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  params: { mode: { kind: 'enum', default: 'grey', options: ['grey', 'rgb'], label: 'Mode', inline: true } },
  outputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  previews: ['image-grid'],
  persist: true,
  async run({ dataset }, p, ctx) {
    const [h, w, c] = dataset.imageShape;
    const to = p.mode === 'grey' ? 1 : 3;
    if (c === to) return { dataset };
    if (c !== 1 && c !== 3) throw new Error(`cannot convert ${c}-channel images`);
    const shape: ImageShape = [h, w, to];
    const store = await createStoreFrom(dataset.count, shape, (start, n) => convertChannels(readRange(dataset.store, start, n), c, to), {
      dir: ctx.cacheDir,
      sources: storeSources(dataset.store),
      signal: ctx.signal,
      onProgress: (done) => ctx.progress(done / dataset.count),
    });
    let normalization: Normalization | undefined;
    const norm = dataset.normalization;
    if (norm)
      normalization =
        to === 3
          ? { mean: [norm.mean[0], norm.mean[0], norm.mean[0]], std: [norm.std[0], norm.std[0], norm.std[0]] }
          : { mean: [0.299 * norm.mean[0] + 0.587 * norm.mean[1] + 0.114 * norm.mean[2]], std: [(norm.std[0] + norm.std[1] + norm.std[2]) / 3] };
    if (norm) ctx.log('normalisation was converted approximately; put Normalise after Colour mode for exact statistics', 'warn');
    return { dataset: createDataset({ ...dataset, imageShape: shape, store, normalization }) };
  },
  preview: ({ dataset }) => datasetPreview(dataset, { perClass: 6 }),
});
