import { defineAugmentNode } from '../_lib/augment-node.ts';

export const randomBlur = defineAugmentNode('blur', {
  id: 'dlflow:augment:random-blur',
  name: 'Random blur',
  description: 'Gaussian blur, as from focus or motion; one sigma per batch, applied to the picked images.',
  magnitudeLabel: '(sigma px)',
});
