/** The hello pipeline through the real engine: executor, disk cache and disposal with our port types. */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine, parseDocumentText, createRegistry } from '../../main/engine/index.ts';
import type { DlflowDocument, EngineEvent } from '../../main/protocol/index.ts';
import { allNodes, allPortTypes } from '../../nodes/index.ts';
import { setupBackend, tempDir } from './_ctx.ts';

let backend: string;
beforeAll(async () => {
  backend = await setupBackend();
});

/** samples/hello.dlflow with tiny settings (as CI runs samples). */
function tinyHello(): DlflowDocument {
  const text = readFileSync(new URL('../../samples/hello.dlflow', import.meta.url), 'utf8');
  const doc = parseDocumentText(text, { registry: createRegistry(allNodes, allPortTypes) }).document!;
  const tiny: Record<string, Record<string, unknown>> = {
    signs: { count: 160, size: 16, classes: 2, difficulty: 0 },
    cnn: { blocks: 1, filters: 4, denseUnits: 16 },
    train: { epochs: 2, batchSize: 16, learningRate: 0.003 },
  };
  for (const node of doc.nodes) Object.assign(node.params, tiny[node.id] ?? {});
  return doc;
}

async function runOnce(cacheDir: string, runId: string) {
  const events: EngineEvent[] = [];
  const engine = await createEngine({ nodes: allNodes, portTypes: allPortTypes, cacheDir, backend, sink: (e) => events.push(e) });
  const result = await engine.run({ document: tinyHello(), runId });
  return { engine, events, result };
}

describe('hello pipeline through the engine', () => {
  it('runs, previews each node, then a new engine serves the expensive nodes from the disk cache', async () => {
    const before = tf.memory().numTensors;
    const cacheDir = tempDir();
    const first = await runOnce(cacheDir, 'r1');
    expect(first.result).toMatchObject({ status: 'done' });
    const kinds = (id: string): string[] =>
      first.events.filter((e) => e.type === 'node-preview' && e.nodeId === id).map((e) => (e as { preview: { kind: string } }).preview.kind);
    expect(kinds('signs')).toContain('image-grid');
    expect(kinds('train')).toContain('curves');
    expect(kinds('evaluate')).toEqual(expect.arrayContaining(['text', 'confusion-matrix', 'table']));
    const summary = first.events.find((e) => e.type === 'node-finished' && e.nodeId === 'evaluate') as { summary?: string };
    expect(summary.summary).toMatch(/^validation accuracy \d+\.\d% \(32 images/);
    await first.engine.dispose();
    expect(tf.memory().numTensors).toBe(before);

    const second = await runOnce(cacheDir, 'r2');
    expect(second.result).toMatchObject({ status: 'done' });
    const cached = second.events.find((e) => e.type === 'nodes-cached') as { nodeIds: string[]; fromDisk: string[] };
    expect(cached.fromDisk).toEqual(expect.arrayContaining(['signs', 'train', 'evaluate']));
    expect(second.events.some((e) => e.type === 'node-started' && e.nodeId === 'train')).toBe(false);
    // Previews of cached nodes come back from their outputs.
    expect(second.events.some((e) => e.type === 'node-preview' && e.nodeId === 'evaluate' && e.preview.kind === 'confusion-matrix')).toBe(true);
    await second.engine.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
