import { defineAugmentNode } from '../_lib/augment-node.ts';

export const cutout = defineAugmentNode('cutout', {
  id: 'dlflow:augment:cutout',
  name: 'Cutout',
  description: 'Blacks out one random square per image (random erasing), so the model cannot rely on a single part of the object.',
  magnitudeLabel: '(side fraction)',
});
