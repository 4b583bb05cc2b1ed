import { defineAugmentNode } from '../_lib/augment-node.ts';

export const randomTranslate = defineAugmentNode('translate', {
  id: 'dlflow:augment:random-translate',
  name: 'Random translation',
  description: 'Shifts images horizontally and vertically.',
  magnitudeLabel: '(fraction of size)',
});
