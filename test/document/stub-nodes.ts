/**
 * A tiny node registry for document tests: every param kind, optional and required inputs,
 * two port types (so mismatches exist), a node with param migrations and a checkParams.
 * Others may reuse it; the nodes really run (on plain numbers and strings).
 */
import { defineNode, definePortType } from '../../main/engine/node-api.ts';
import type { Registry } from '../../main/engine/registry.ts';
import { createRegistry } from '../../main/engine/registry.ts';

export const numberPort = definePortType({ id: 'stub-number', label: 'Number', color: '#4a90d9' });
export const textPort = definePortType({ id: 'stub-text', label: 'Text', color: '#d98c4a' });

export const constant = defineNode({
  id: 'stub:source:constant',
  name: 'Constant',
  category: 'source',
  description: 'Outputs `value`.',
  inputs: {},
  params: { value: { kind: 'number', default: 1, min: -1000, max: 1000 } },
  outputs: { out: { type: 'stub-number' } },
  run: async (_inputs, params) => ({ out: params.value }),
});

export const add = defineNode({
  id: 'stub:math:add',
  name: 'Add',
  category: 'math',
  description: 'a + b (b defaults to 0).',
  inputs: { a: { type: 'stub-number' }, b: { type: 'stub-number', optional: true } },
  params: {},
  outputs: { sum: { type: 'stub-number' } },
  run: async (inputs) => ({ sum: (inputs.a as number) + ((inputs.b as number | undefined) ?? 0) }),
});

export const format = defineNode({
  id: 'stub:text:format',
  name: 'Format',
  category: 'text',
  description: 'Replaces `{}` in the template with the value.',
  inputs: { value: { type: 'stub-number' } },
  params: { template: { kind: 'string', default: 'value: {}', required: true } },
  outputs: { text: { type: 'stub-text' } },
  run: async (inputs, params) => ({ text: params.template.replace('{}', String(inputs.value)) }),
});

export const saveText = defineNode({
  id: 'stub:io:save-text',
  name: 'Save text',
  category: 'io',
  description: 'Writes the text to a file.',
  inputs: { text: { type: 'stub-text' } },
  params: {
    path: { kind: 'path', mode: 'save', default: 'out.txt', required: true },
    notesFolder: { kind: 'path', mode: 'folder', default: '' },
  },
  outputs: {},
  sideEffects: true,
  run: async () => ({}),
});

/**
 * Version 3. v1 saved the learning rate as `lr`; v2 renamed it `learningRate`; v3 renamed
 * the optimizer option "sgd-momentum" to "momentum".
 */
export const trainClassifier = defineNode({
  id: 'stub:train:train-classifier',
  version: 3,
  name: 'Train classifier',
  category: 'train',
  description: 'Pretends to train.',
  inputs: { data: { type: 'stub-number' } },
  params: {
    epochs: { kind: 'integer', default: 10, min: 1, max: 1000 },
    learningRate: { kind: 'number', default: 0.001, min: 1e-6, max: 1 },
    optimizer: { kind: 'enum', default: 'adam', options: ['adam', 'sgd', 'momentum'] },
    shuffle: { kind: 'boolean', default: true },
    warmup: { kind: 'integer', default: 0, min: 0, max: 100 },
    seed: { kind: 'seed', default: 42 },
    notes: { kind: 'code', default: '', language: 'json' },
  },
  outputs: { model: { type: 'stub-text' } },
  checkParams: (p) => (p.warmup >= p.epochs ? [{ param: 'warmup', message: `must be below epochs (${p.epochs})` }] : []),
  migrations: [
    {
      toVersion: 2,
      migrate: ({ lr, ...rest }) => (lr === undefined ? rest : { ...rest, learningRate: lr }),
    },
    {
      toVersion: 3,
      migrate: (p) => (p.optimizer === 'sgd-momentum' ? { ...p, optimizer: 'momentum' } : p),
    },
  ],
  run: async (_inputs, params) => ({ model: `trained ${params.epochs} epochs` }),
});

export const stubNodes = [constant, add, format, saveText, trainClassifier];
export const stubPortTypes = [numberPort, textPort];

export function stubRegistry(): Registry {
  return createRegistry(stubNodes, stubPortTypes);
}
