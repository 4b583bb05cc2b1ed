import { defineAugmentNode } from '../_lib/augment-node.ts';

export const randomShear = defineAugmentNode('shear', {
  id: 'dlflow:augment:random-shear',
  name: 'Random shear',
  description: 'Shears images horizontally or vertically.',
  magnitudeLabel: '(degrees)',
});
