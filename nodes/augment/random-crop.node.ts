import { defineAugmentNode } from '../_lib/augment-node.ts';

export const randomCrop = defineAugmentNode('crop', {
  id: 'dlflow:augment:random-crop',
  name: 'Random crop',
  description: 'Keeps a random window of each image and resizes it back to full size (the classic random-resized crop, without the aspect change; add *Random stretch* for that).',
  magnitudeLabel: '(kept fraction)',
});
