import { defineAugmentNode } from '../_lib/augment-node.ts';

export const snow = defineAugmentNode('snow', {
  id: 'dlflow:augment:snow',
  name: 'Snow',
  description: 'Synthetic snow: flakes and a bright haze.',
  magnitudeLabel: '(intensity)',
});
