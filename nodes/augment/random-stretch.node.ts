import { defineAugmentNode } from '../_lib/augment-node.ts';

export const randomStretch = defineAugmentNode('stretch', {
  id: 'dlflow:augment:random-stretch',
  name: 'Random stretch',
  description: 'Changes the aspect ratio: wider or taller at random.',
  magnitudeLabel: '(aspect factor)',
});
