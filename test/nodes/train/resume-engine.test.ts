import '../_leak-guard.ts';
/**
 * Resume after a cancel, through the real engine (executor, cache folders, events), as the CLI's
 * Ctrl-C does: cancel during epoch 3, run again, and training continues from epoch 2's checkpoint.
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../main/engine/engine.ts';
import type { DlflowDocument, EngineEvent } from '../../../main/protocol/index.ts';
import { allPortTypes } from '../../../nodes/_lib/ports.ts';
import { sampleSigns } from '../../../nodes/data/sample-signs.node.ts';
import { split } from '../../../nodes/data/split.node.ts';
import { cnnBuilder } from '../../../nodes/model/cnn-builder.node.ts';
import { trainClassifier } from '../../../nodes/train/train-classifier.node.ts';
import { tempDir } from '../_ctx.ts';

const node = (id: string, type: string, params: Record<string, unknown>): DlflowDocument['nodes'][number] => ({ id, type, params, position: { x: 0, y: 0 } });
const edge = (source: string, sourceHandle: string, target: string, targetHandle: string): DlflowDocument['edges'][number] => ({
  id: `${source}-${target}-${targetHandle}`,
  source,
  sourceHandle,
  target,
  targetHandle,
});

const document: DlflowDocument = {
  format: 'dlflow',
  version: 1,
  nodes: [
    node('signs', sampleSigns.id, { count: 64, size: 12, classes: 2, difficulty: 0, seed: 3 }),
    node('split', split.id, { validation: 0.25, test: 0, stratify: true, seed: 1 }),
    node('cnn', cnnBuilder.id, { blocks: 1, filters: 4, dense: '8', seed: 1 }),
    node('train', trainClassifier.id, { epochs: 4, batchSize: 8, learningRate: 0.01, seed: 1 }),
  ],
  edges: [edge('signs', 'dataset', 'split', 'dataset'), edge('split', 'dataset', 'cnn', 'dataset'), edge('cnn', 'model', 'train', 'model'), edge('split', 'dataset', 'train', 'dataset')],
} as DlflowDocument;

describe('training resume through the engine', () => {
  it('resumes from the last finished epoch after a cancel, and says so', async () => {
    const events: EngineEvent[] = [];
    let cancelAt: (() => void) | undefined;
    const engine = await createEngine({
      nodes: [sampleSigns, split, cnnBuilder, trainClassifier],
      portTypes: allPortTypes,
      cacheDir: tempDir(),
      backend: 'wasm',
      progressIntervalMs: 0,
      previewIntervalMs: 0,
      sink: (e) => {
        events.push(e);
        if (e.type === 'node-log' && e.nodeId === 'train' && /^epoch 2\/4/.test(e.message)) cancelAt?.();
      },
    });
    try {
      cancelAt = () => void engine.cancel({ runId: 'first' });
      const first = await engine.run({ document, runId: 'first' });
      expect(first.status).toBe('cancelled');
      cancelAt = undefined;
      const second = await engine.run({ document, runId: 'second' });
      expect(second.status).toBe('done');
      const logs = events.filter((e): e is Extract<EngineEvent, { type: 'node-log' }> => e.type === 'node-log' && e.runId === 'second').map((e) => e.message);
      expect(logs.some((m) => /resuming from epoch 2 of 4/.test(m))).toBe(true);
      expect(logs.filter((m) => /^epoch \d\/4/.test(m)).map((m) => m.slice(0, 9))).toEqual(['epoch 3/4', 'epoch 4/4']);
      const previews = events.filter((e) => e.type === 'node-preview' && e.nodeId === 'train' && e.runId === 'second');
      expect(previews.length).toBeGreaterThan(0);
    } finally {
      await engine.dispose();
    }
  }, 60_000);
});
