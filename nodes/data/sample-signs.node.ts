import { defineNode } from '../../main/engine/node-api.ts';
import { NodeError } from '../../main/engine/errors.ts';
import { createDataset, createMemoryStore, datasetPreview } from '../_lib/dataset.ts';
import { MAX_SIGN_CLASSES, SIGN_CLASSES, drawSign } from '../_lib/signs.ts';

/** The images are held in memory; past this they would not fit one typed array anyway. */
const MAX_BYTES = 2 ** 31 - 1;

export const sampleSigns = defineNode({
  id: 'dlflow:data:sample-signs',
  name: 'Sample traffic signs',
  category: 'data',
  description: [
    'A built-in, procedurally drawn image dataset of traffic-sign-like shapes, so a pipeline can run',
    'with no data on disk. Classes (in order): ' + SIGN_CLASSES.map((c) => `\`${c.name}\``).join(', ') + '.',
    '',
    'Each image has a varied background (sky, foliage, facades, clutter), a sign of random size,',
    'position and tilt, uneven lighting, and sometimes blur, noise and occlusion. The same seed always',
    'gives the same images; a larger count adds images without changing the first ones.',
    'Classes are balanced (image *i* has class *i mod classes*).',
  ].join('\n'),
  inputs: {},
  params: {
    count: { kind: 'integer', default: 3000, min: 10, max: 200_000, label: 'Images', inline: true },
    size: { kind: 'integer', default: 32, min: 8, max: 256, label: 'Size (px)', description: 'Width and height of the square RGB images.' },
    classes: {
      kind: 'integer',
      default: 6,
      min: 2,
      max: MAX_SIGN_CLASSES,
      label: 'Classes',
      description: 'How many sign classes to draw, taken in the order listed above.',
    },
    difficulty: {
      kind: 'number',
      default: 0.5,
      min: 0,
      max: 1,
      step: 0.05,
      label: 'Difficulty',
      description: 'Scales lighting changes, blur, noise, occlusion and clutter. 0 gives clean signs.',
    },
    seed: { kind: 'seed', default: 1, label: 'Seed' },
  },
  outputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  checkParams: ({ count, size }) =>
    count * size * size * 3 > MAX_BYTES
      ? [{ param: 'count', message: `${count} images of ${size}x${size} would take ${(count * size * size * 3 / 2 ** 30).toFixed(1)} GiB; keep count x size x size x 3 under 2 GiB` }]
      : [],
  previews: ['image-grid'],
  // Cheaper to read back than to redraw, and downstream nodes need it whenever they re-run.
  persist: true,
  async run(_inputs, params, ctx) {
    const { count, size, classes, difficulty, seed } = params;
    const problem = sampleSigns.checkParams?.(params)[0];
    if (problem) throw new NodeError(problem.message, { param: 'count' });
    const per = size * size * 3;
    const pixels = new Uint8Array(count * per);
    const labels = new Int32Array(count);
    const step = Math.max(1, Math.floor(count / 50));
    for (let i = 0; i < count; i++) {
      labels[i] = i % classes;
      drawSign(pixels, i * per, size, labels[i], seed, i, difficulty);
      if (i % step === step - 1) {
        ctx.throwIfCancelled();
        ctx.progress((i + 1) / count, `${i + 1}/${count} images`);
      }
    }
    const dataset = createDataset({
      classes: SIGN_CLASSES.slice(0, classes).map((c) => c.name),
      labels,
      subsets: {},
      store: createMemoryStore(pixels, [size, size, 3]),
      origin: `sample-signs seed ${seed}`,
    });
    return { dataset };
  },
  preview: ({ dataset }) => datasetPreview(dataset, { perClass: 8 }),
  summary: ({ dataset: d }) => `${d.count} images, ${d.classes.length} classes, ${d.imageShape[1]}x${d.imageShape[0]}`,
});
