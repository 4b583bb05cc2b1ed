import { defineAugmentNode } from '../_lib/augment-node.ts';

export const night = defineAugmentNode('night', {
  id: 'dlflow:augment:night',
  name: 'Night',
  description: 'Synthetic low light: darker, more contrast in the shadows, a blue cast and sensor noise.',
  magnitudeLabel: '(darkness)',
});
