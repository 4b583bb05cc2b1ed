import { defineAugmentNode } from '../_lib/augment-node.ts';

export const randomRotate = defineAugmentNode('rotate', {
  id: 'dlflow:augment:random-rotate',
  name: 'Random rotation',
  description: 'Rotates images about their centre, clockwise or anticlockwise.',
  magnitudeLabel: '(degrees)',
});
