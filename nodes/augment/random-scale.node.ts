import { defineAugmentNode } from '../_lib/augment-node.ts';

export const randomScale = defineAugmentNode('scale', {
  id: 'dlflow:augment:random-scale',
  name: 'Random scale',
  description: 'Zooms in or out about the centre.',
  magnitudeLabel: '(zoom)',
});
