import { defineNode } from '../../main/engine/node-api.ts';
import { AUGMENT_INFO } from '../_lib/augment.ts';
import type { AugmentKind } from '../_lib/augment.ts';
import { chainPreview, previewParams, withSteps } from '../_lib/augment-node.ts';

const range = (kind: AugmentKind, which: 0 | 1, label: string) =>
  ({
    kind: 'number',
    default: AUGMENT_INFO[kind].range[which],
    min: AUGMENT_INFO[kind].bounds[0],
    max: AUGMENT_INFO[kind].bounds[1],
    step: kind === 'hue' ? 1 : 0.05,
    label,
  }) as const;

export const colourJitter = defineNode({
  id: 'dlflow:augment:colour-jitter',
  name: 'Colour jitter',
  category: 'augment',
  description: [
    'Random **brightness** (added, 0..1 scale), **contrast** and **saturation** (factors, 1 = unchanged)',
    'and **hue** (rotation in degrees), each applied to a training image with *probability*, with',
    'its own range. Set a range to its neutral value (0, 1, 1, 0) to leave that part out.',
    'Applied on the fly to training batches only, fresh every batch.',
  ].join('\n'),
  inputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  params: {
    probability: { kind: 'number', default: 0.5, min: 0, max: 1, step: 0.05, label: 'Probability', inline: true },
    brightnessMin: range('brightness', 0, 'Brightness min'),
    brightnessMax: range('brightness', 1, 'Brightness max'),
    contrastMin: range('contrast', 0, 'Contrast min'),
    contrastMax: range('contrast', 1, 'Contrast max'),
    saturationMin: range('saturation', 0, 'Saturation min'),
    saturationMax: range('saturation', 1, 'Saturation max'),
    hueMin: range('hue', 0, 'Hue min (degrees)'),
    hueMax: range('hue', 1, 'Hue max (degrees)'),
    ...previewParams,
  },
  outputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  previews: ['image-grid'],
  async run({ dataset }, p) {
    const parts: [AugmentKind, number, number, number][] = [
      ['brightness', p.brightnessMin, p.brightnessMax, 0],
      ['contrast', p.contrastMin, p.contrastMax, 1],
      ['saturation', p.saturationMin, p.saturationMax, 1],
      ['hue', p.hueMin, p.hueMax, 0],
    ];
    const add = parts
      .filter(([, min, max, neutral]) => !(min === neutral && max === neutral))
      .map(([kind, min, max]) => ({ kind, range: { p: p.probability, min, max } }));
    return { dataset: withSteps(dataset, add, 'reflect') };
  },
  preview: ({ dataset }, p) => chainPreview(dataset, p.seed, p.previewImages),
});
