import * as tf from '@tensorflow/tfjs';
import { defineNode } from '../../main/engine/node-api.ts';
import { createDataset, datasetPreview } from '../_lib/dataset.ts';
import type { ImageShape } from '../_lib/dataset.ts';
import { createStoreFrom, readRange, storeSources } from '../_lib/image-io.ts';

/**
 * Resizes a uint8 NHWC chunk to h x w. `stretch` ignores aspect, `crop` cuts the centre to the
 * target aspect first, `letterbox` fits inside and pads with black. Bilinear, on tensors.
 */
export function resizePixels(px: Uint8Array, from: ImageShape, n: number, to: { height: number; width: number }, fit: string): Uint8Array {
  const [h0, w0, c] = from;
  const { height: h, width: w } = to;
  const out = tf.tidy(() => {
    const x = tf.tensor4d(px, [n, h0, w0, c], 'int32').toFloat();
    let y: tf.Tensor4D;
    if (fit === 'crop') {
      const target = w / h;
      const source = w0 / h0;
      // Normalised box of the centred window with the target aspect.
      const bw = target < source ? target / source : 1;
      const bh = target < source ? 1 : source / target;
      const box = [(1 - bh) / 2, (1 - bw) / 2, (1 + bh) / 2, (1 + bw) / 2];
      y = tf.image.cropAndResize(x, tf.tensor2d(Array.from({ length: n }, () => box)), tf.range(0, n, 1, 'int32'), [h, w], 'bilinear');
    } else if (fit === 'letterbox') {
      const s = Math.min(h / h0, w / w0);
      const ih = Math.max(1, Math.round(h0 * s));
      const iw = Math.max(1, Math.round(w0 * s));
      const inner = tf.image.resizeBilinear(x, [ih, iw], true);
      const top = Math.floor((h - ih) / 2);
      const left = Math.floor((w - iw) / 2);
      y = tf.pad(inner, [[0, 0], [top, h - ih - top], [left, w - iw - left], [0, 0]]);
    } else y = tf.image.resizeBilinear(x, [h, w], true);
    return y.round().clipByValue(0, 255);
  });
  // Read outside tidy: tidy walks a returned typed array element by element.
  const bytes = Uint8Array.from(out.dataSync());
  out.dispose();
  return bytes;
}

export const resize = defineNode({
  id: 'dlflow:preprocess:resize',
  name: 'Resize',
  category: 'preprocess',
  description: [
    'Resizes every image to *width* × *height*. **stretch** ignores the aspect ratio, **crop** cuts',
    'the centre to the new aspect first, **letterbox** fits the whole image inside and pads with black.',
    'Works in chunks, so large datasets are never held as floats; results over 256 MB go to a file.',
    'For image files, resizing in the loader is cheaper and sharper (it resizes from the source).',
  ].join('\n'),
  inputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  params: {
    width: { kind: 'integer', default: 32, min: 4, max: 1024, label: 'Width (px)', inline: true },
    height: { kind: 'integer', default: 32, min: 4, max: 1024, label: 'Height (px)', inline: true },
    fit: { kind: 'enum', default: 'stretch', options: ['stretch', 'crop', 'letterbox'], label: 'Fit' },
  },
  outputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  previews: ['image-grid'],
  persist: true,
  async run({ dataset }, p, ctx) {
    const [h0, w0, c] = dataset.imageShape;
    if (h0 === p.height && w0 === p.width) return { dataset };
    const shape: ImageShape = [p.height, p.width, c];
    const store = await createStoreFrom(dataset.count, shape, (start, n) => resizePixels(readRange(dataset.store, start, n), dataset.imageShape, n, p, p.fit), {
      dir: ctx.cacheDir,
      chunk: 256,
      sources: storeSources(dataset.store),
      signal: ctx.signal,
      onProgress: (done) => ctx.progress(done / dataset.count, `${done}/${dataset.count} images`),
    });
    return { dataset: createDataset({ ...dataset, imageShape: shape, store }) };
  },
  preview: ({ dataset }) => datasetPreview(dataset, { perClass: 6 }),
  summary: ({ dataset }) => `${dataset.imageShape.join('x')}`,
});
