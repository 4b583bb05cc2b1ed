import { defineAugmentNode } from '../_lib/augment-node.ts';

export const rain = defineAugmentNode('rain', {
  id: 'dlflow:augment:rain',
  name: 'Rain',
  description: 'Synthetic rain: slanted streaks over a slightly darker, bluer, wet-looking image.',
  magnitudeLabel: '(intensity)',
});
