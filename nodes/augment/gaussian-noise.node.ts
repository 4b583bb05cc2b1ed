import { defineAugmentNode } from '../_lib/augment-node.ts';

export const gaussianNoise = defineAugmentNode('noise', {
  id: 'dlflow:augment:gaussian-noise',
  name: 'Gaussian noise',
  description: 'Adds per-pixel Gaussian sensor noise.',
  magnitudeLabel: '(std)',
});
