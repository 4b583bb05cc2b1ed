import { defineNode } from '../../main/engine/node-api.ts';
import { chainPreview, previewParams, withSteps } from '../_lib/augment-node.ts';

export const randomFlip = defineNode({
  id: 'dlflow:augment:random-flip',
  name: 'Random flip',
  category: 'augment',
  description: [
    'Mirrors training images left-right and/or upside down, each with its own probability.',
    'Leave a direction at 0 when it changes the meaning of a class (text, arrows, left/right turn signs).',
    'Applied on the fly to training batches only, fresh every batch.',
  ].join('\n'),
  inputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  params: {
    horizontal: { kind: 'number', default: 0.5, min: 0, max: 1, step: 0.05, label: 'Horizontal probability', inline: true },
    vertical: { kind: 'number', default: 0, min: 0, max: 1, step: 0.05, label: 'Vertical probability', inline: true },
    ...previewParams,
  },
  outputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  previews: ['image-grid'],
  async run({ dataset }, p) {
    const add = [
      ...(p.horizontal > 0 ? [{ kind: 'flip-h' as const, range: { p: p.horizontal, min: 0, max: 0 } }] : []),
      ...(p.vertical > 0 ? [{ kind: 'flip-v' as const, range: { p: p.vertical, min: 0, max: 0 } }] : []),
    ];
    return { dataset: withSteps(dataset, add, 'reflect') };
  },
  preview: ({ dataset }, p) => chainPreview(dataset, p.seed, p.previewImages),
});
