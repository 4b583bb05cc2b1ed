/**
 * Fast stub nodes for CLI tests, loaded by the real CLI through DLFLOW_NODES_MODULE. Values are
 * plain numbers; the port type can be stored on disk so a second process is served from cache.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
// Imported file by file (not engine/index.ts) so that stub runs do not load TensorFlow.js until the CLI does.
import { CancelledError, NodeError } from '../../main/engine/errors.ts';
import { defineNode, definePortType } from '../../main/engine/node-api.ts';

const numberPort = definePortType({
  id: 'stub-number',
  label: 'Number',
  color: '#888888',
  description: 'A plain number (test stub).',
  async save(value, dir) {
    await writeFile(join(dir, 'value.json'), JSON.stringify(value));
  },
  async load(dir) {
    return JSON.parse(await readFile(join(dir, 'value.json'), 'utf8')) as number;
  },
});

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((done, fail) => {
    if (signal.aborted) return fail(new CancelledError());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      done();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      fail(new CancelledError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

export const source = defineNode({
  id: 'stub:source',
  name: 'Source',
  category: 'stub',
  description: 'Emits `value`.\n\nSecond paragraph, not shown in the catalogue.',
  inputs: {},
  params: { value: { kind: 'number', default: 1, min: -1000, max: 1000, description: 'The number to emit' } },
  outputs: { out: { type: 'stub-number' } },
  persist: true,
  async run(_inputs, params) {
    return { out: params.value };
  },
  summary: (outputs) => `value ${String(outputs.out)}`,
});

export const add = defineNode({
  id: 'stub:add',
  name: 'Add',
  category: 'stub',
  description: 'Adds `amount` to its input.',
  inputs: { a: { type: 'stub-number' } },
  params: {
    amount: { kind: 'integer', default: 1, min: 0, max: 100 },
    label: { kind: 'string', default: '' },
    mode: { kind: 'enum', default: 'plus', options: ['plus', 'minus'] },
  },
  outputs: { out: { type: 'stub-number' } },
  persist: true,
  async run(inputs, params) {
    const a = inputs.a as number;
    return { out: params.mode === 'plus' ? a + params.amount : a - params.amount };
  },
  summary: (outputs) => `sum ${String(outputs.out)}`,
});

export const slow = defineNode({
  id: 'stub:slow',
  name: 'Slow',
  category: 'stub',
  description: 'Waits `steps` × `stepMs`, reporting progress each step; stops promptly on cancel.',
  inputs: { a: { type: 'stub-number' } },
  params: {
    steps: { kind: 'integer', default: 10, min: 1, max: 1000 },
    stepMs: { kind: 'integer', default: 100, min: 0, max: 60_000 },
    stubborn: { kind: 'boolean', default: false, description: 'Ignore cancellation (to test the second Ctrl-C).' },
  },
  outputs: { out: { type: 'stub-number' } },
  persist: true,
  async run(inputs, params, ctx) {
    for (let i = 0; i < params.steps; i++) {
      await sleep(params.stepMs, params.stubborn ? new AbortController().signal : ctx.signal);
      ctx.progress((i + 1) / params.steps, `step ${i + 1}/${params.steps} · loss ${(1 / (i + 1)).toFixed(2)}`);
    }
    return { out: inputs.a as number };
  },
});

export const writeValue = defineNode({
  id: 'stub:write',
  name: 'Write',
  category: 'stub',
  description: 'Writes its input to a file (relative to the document folder).',
  inputs: { a: { type: 'stub-number' } },
  params: { path: { kind: 'path', default: 'out.txt', mode: 'save' } },
  outputs: {},
  sideEffects: true,
  async run(inputs, params, ctx) {
    const target = resolve(ctx.baseDir, params.path);
    await mkdir(resolve(target, '..'), { recursive: true });
    await writeFile(target, String(inputs.a));
    // Stray console output: `dlflow run --json` must keep it off stdout.
    console.log(`wrote ${target}`);
    return {};
  },
});

export const fail = defineNode({
  id: 'stub:fail',
  name: 'Fail',
  category: 'stub',
  description: 'Always fails, naming its param.',
  inputs: { a: { type: 'stub-number', optional: true } },
  params: { reason: { kind: 'string', default: 'boom' } },
  outputs: { out: { type: 'stub-number' } },
  async run(_inputs, params) {
    throw new NodeError(`stub failure: ${params.reason}`, { param: 'reason' });
  },
});

export const allNodes = [source, add, slow, writeValue, fail];
export const allPortTypes = [numberPort];
