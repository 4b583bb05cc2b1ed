// Stub nodes and a tiny graph builder for engine tests: fast, deterministic, counting their runs.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { DlflowDocument } from '../../main/protocol/index.ts';
import { defineNode, definePortType, NodeError } from '../../main/engine/index.ts';

export const runs: Record<string, number> = {};
const count = (id: string): void => {
  runs[id] = (runs[id] ?? 0) + 1;
};

export const stubPortTypes = [
  definePortType({
    id: 'num',
    label: 'Number',
    color: '#888',
    save: async (value, dir) => writeFile(join(dir, 'v.json'), JSON.stringify(value)),
    load: async (dir) => JSON.parse(await readFile(join(dir, 'v.json'), 'utf8')),
  }),
  definePortType({
    id: 'tensor',
    label: 'Tensor',
    color: '#f80',
    dispose: (v) => (v as tf.Tensor).dispose(),
    sizeBytes: (v) => (v as tf.Tensor).size * 4,
  }),
];

export const constant = defineNode({
  id: 'test:stub:constant',
  name: 'Constant',
  category: 'test',
  description: 'Outputs its value.',
  persist: true,
  inputs: {},
  params: { value: { kind: 'number', default: 1, min: -1000, max: 1000 } },
  outputs: { out: { type: 'num' } },
  async run(_inputs, params, ctx) {
    count(ctx.nodeId);
    return { out: params.value };
  },
});

export const add = defineNode({
  id: 'test:stub:add',
  name: 'Add',
  category: 'test',
  description: 'a + b + bias',
  persist: true,
  inputs: { a: { type: 'num' }, b: { type: 'num', optional: true } },
  params: { bias: { kind: 'number', default: 0 } },
  outputs: { out: { type: 'num' } },
  summary: (outputs) => `sum ${outputs.out as number}`,
  async run(inputs, params, ctx) {
    count(ctx.nodeId);
    ctx.progress(0.5, 'half');
    ctx.progress(1, 'done');
    return { out: (inputs.a as number) + ((inputs.b as number | undefined) ?? 0) + params.bias };
  },
});

export const fail = defineNode({
  id: 'test:stub:fail',
  name: 'Fail',
  category: 'test',
  description: 'Always fails, blaming a param.',
  inputs: { a: { type: 'num', optional: true } },
  params: { reason: { kind: 'string', default: 'boom' } },
  outputs: { out: { type: 'num' } },
  async run(_inputs, params, ctx) {
    count(ctx.nodeId);
    throw new NodeError(`failed because ${params.reason}`, { param: 'reason' });
  },
});

export const slow = defineNode({
  id: 'test:stub:slow',
  name: 'Slow',
  category: 'test',
  description: 'Ticks until done or cancelled.',
  persist: true,
  inputs: { a: { type: 'num', optional: true } },
  params: { steps: { kind: 'integer', default: 20, min: 1, max: 10000 }, ms: { kind: 'integer', default: 20, min: 0, max: 1000 } },
  outputs: { out: { type: 'num' } },
  async run(_inputs, params, ctx) {
    count(ctx.nodeId);
    for (let i = 0; i < params.steps; i++) {
      ctx.throwIfCancelled();
      await new Promise((r) => setTimeout(r, params.ms));
      ctx.progress((i + 1) / params.steps, `step ${i + 1}`);
    }
    return { out: params.steps };
  },
});

export const makeTensor = defineNode({
  id: 'test:stub:make-tensor',
  name: 'Make tensor',
  category: 'test',
  description: 'A random tensor of the given size, from the seed.',
  inputs: {},
  params: { size: { kind: 'integer', default: 100, min: 1, max: 1_000_000 }, seed: { kind: 'seed', default: 1 } },
  outputs: { out: { type: 'tensor' } },
  async run(_inputs, params, ctx) {
    count(ctx.nodeId);
    return { out: tf.randomUniform([params.size], 0, 1, 'float32', params.seed) };
  },
});

export const scaleTensor = defineNode({
  id: 'test:stub:scale-tensor',
  name: 'Scale tensor',
  category: 'test',
  description: 'x * k',
  inputs: { x: { type: 'tensor' } },
  params: { k: { kind: 'number', default: 2 } },
  outputs: { out: { type: 'tensor' } },
  async run(inputs, params, ctx) {
    count(ctx.nodeId);
    return { out: tf.tidy(() => (inputs.x as tf.Tensor).mul(params.k)) };
  },
});

export const stubNodes = [constant, add, fail, slow, makeTensor, scaleTensor];

/** Builds a document: `node(id, type, params)` then `edge('a.out', 'b.a')`. */
export function graph(): {
  node(id: string, type: string, params?: Record<string, unknown>): ReturnType<typeof graph>;
  edge(from: string, to: string): ReturnType<typeof graph>;
  doc(): DlflowDocument;
} {
  const doc: DlflowDocument = { format: 'dlflow', version: 1, nodes: [], edges: [] };
  const api = {
    node(id: string, type: string, params: Record<string, unknown> = {}) {
      doc.nodes.push({ id, type: type.includes(':') ? type : `test:stub:${type}`, params, position: { x: doc.nodes.length * 200, y: 0 } });
      return api;
    },
    edge(from: string, to: string) {
      const [source, sourceHandle] = from.split('.');
      const [target, targetHandle] = to.split('.');
      doc.edges.push({ id: `e${doc.edges.length}`, source, sourceHandle, target, targetHandle });
      return api;
    },
    doc: () => structuredClone(doc),
  };
  return api;
}
