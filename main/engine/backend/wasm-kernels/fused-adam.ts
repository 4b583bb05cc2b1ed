import * as tf from '@tensorflow/tfjs';
export class FusedAdam extends tf.AdamOptimizer {}
