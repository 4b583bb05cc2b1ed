import { defineAugmentNode } from '../_lib/augment-node.ts';

export const fog = defineAugmentNode('fog', {
  id: 'dlflow:augment:fog',
  name: 'Fog',
  description: 'Synthetic fog: patchy milky haze, denser towards the top of the image, that washes out contrast.',
  magnitudeLabel: '(density)',
});
