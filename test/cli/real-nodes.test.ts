/** The CLI with the real node library (nodes/index.ts): catalogue, a --set error, and a tiny end-to-end run. */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dlflow, jsonLines, tempDir, writeDoc } from './helpers.ts';

let dir: string;
let file: string;

/** A few dozen 16×16 images, one conv block, two epochs: seconds, not minutes. */
const tiny = (train: Record<string, unknown> = { epochs: 2, batchSize: 16 }) => ({
  format: 'dlflow',
  version: 1,
  nodes: [
    { id: 'data', type: 'dlflow:data:sample-signs', params: { count: 80, size: 16, classes: 2 }, position: { x: 0, y: 0 } },
    { id: 'split', type: 'dlflow:data:split', params: { validation: 0.25 }, position: { x: 200, y: 0 } },
    { id: 'model', type: 'dlflow:model:simple-cnn', params: { blocks: 1, filters: 4, denseUnits: 8 }, position: { x: 400, y: 0 } },
    { id: 'train', type: 'dlflow:train:train-classifier', params: train, position: { x: 600, y: 0 } },
    { id: 'eval', type: 'dlflow:evaluate:evaluate-classifier', params: {}, position: { x: 800, y: 0 } },
  ],
  edges: [
    { id: 'e1', source: 'data', sourceHandle: 'dataset', target: 'split', targetHandle: 'dataset' },
    { id: 'e2', source: 'split', sourceHandle: 'dataset', target: 'model', targetHandle: 'dataset' },
    { id: 'e3', source: 'model', sourceHandle: 'model', target: 'train', targetHandle: 'model' },
    { id: 'e4', source: 'split', sourceHandle: 'dataset', target: 'train', targetHandle: 'dataset' },
    { id: 'e5', source: 'train', sourceHandle: 'trainedModel', target: 'eval', targetHandle: 'trainedModel' },
    { id: 'e6', source: 'split', sourceHandle: 'dataset', target: 'eval', targetHandle: 'dataset' },
  ],
});

beforeAll(async () => {
  dir = await tempDir();
  file = await writeDoc(dir, 'tiny.dlflow', tiny());
});

describe('dlflow with the real nodes', () => {
  it('nodes --json lists the built-in catalogue', async () => {
    const r = await dlflow(['nodes', '--json'], { stub: false });
    expect(r.code, r.stderr).toBe(0);
    const ids = (JSON.parse(r.stdout) as { nodes: { id: string }[] }).nodes.map((n) => n.id);
    for (const id of ['dlflow:data:sample-signs', 'dlflow:train:train-classifier', 'dlflow:evaluate:evaluate-classifier']) expect(ids).toContain(id);
  });

  it('a param out of range in the file, and through --set, name node, type and range', async () => {
    await writeDoc(dir, 'hello.dlflow', tiny({ epochs: 0 }));
    const bad = await dlflow(['validate', 'hello.dlflow'], { stub: false, cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toMatch(/^error: hello\.dlflow: node "train" \(dlflow:train:train-classifier\): param "epochs" is 0, outside 1\.\.\d+$/);
    const set = await dlflow(['run', file, '--set', 'train.epochs=0'], { stub: false });
    expect(set.code).toBe(2);
    expect(set.stderr).toMatch(/^error: --set train\.epochs=0: node "train" \(dlflow:train:train-classifier\): param "epochs" is 0, outside 1\.\.\d+\n$/);
  });

  it('trains end to end on wasm; the second run serves the trained model from the disk cache', async () => {
    const cache = join(dir, 'cache');
    const first = await dlflow(['run', file, '--backend', 'wasm', '--cache-dir', cache], { stub: false, timeoutMs: 120_000 });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^ {2}eval +done +\S+ +no +validation accuracy \d+(\.\d)?%/m);

    const second = await dlflow(['run', file, '--backend', 'wasm', '--cache-dir', cache, '--json'], { stub: false, timeoutMs: 120_000 });
    expect(second.code, second.stderr).toBe(0);
    const events = jsonLines(second.stdout);
    expect((events.find((e) => e.type === 'nodes-cached')?.nodeIds as string[]) ?? []).toContain('train');
    expect(events.filter((e) => e.type === 'node-started').map((e) => e.nodeId)).not.toContain('train');
    expect(events.at(-1)).toMatchObject({ type: 'run-finished', status: 'done' });
  }, 240_000);
});
