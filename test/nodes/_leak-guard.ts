// Import for its side effect in a node test file: every test must leave tf.memory().numTensors
// where it found it (nodes never leak tensors, DESIGN.md "Tests").
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, expect } from 'vitest';

let before = 0;
beforeEach(async () => {
  await tf.ready(); // a backend must exist before tf.memory() can be read
  before = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors, 'tensors leaked by this test').toBe(before);
});
