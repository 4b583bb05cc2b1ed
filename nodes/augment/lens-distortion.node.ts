import { defineAugmentNode } from '../_lib/augment-node.ts';

export const lensDistortion = defineAugmentNode('lens', {
  id: 'dlflow:augment:lens-distortion',
  name: 'Lens distortion',
  description: 'Radial lens distortion: barrel (k > 0, like a wide-angle lens) or pincushion (k < 0, like a telephoto lens).',
  magnitudeLabel: 'k',
});
