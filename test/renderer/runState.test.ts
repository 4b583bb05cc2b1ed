import { describe, expect, it } from 'vitest';
import type { EngineEvent, PreviewPayload } from '../../main/protocol/index.ts';
import { applyRunEvent, beginRun, failRun, initialRunState, isRunActive } from '../../renderer/src/model/runState.ts';

const fold = (events: EngineEvent[], runId = 'r1') => events.reduce((s, e) => applyRunEvent(s, e, 0), beginRun(initialRunState(), runId, 0));

describe('run state from events', () => {
  it('walks nodes through queued, cached, running, done and failed', () => {
    const s = fold([
      { type: 'run-started', runId: 'r1', nodeIds: ['a', 'b', 'c'], backend: 'wasm', time: 0 },
      { type: 'nodes-cached', runId: 'r1', nodeIds: ['a'], fromDisk: [] },
      { type: 'node-started', runId: 'r1', nodeId: 'b', time: 1 },
      { type: 'node-progress', runId: 'r1', nodeId: 'b', fraction: 0.5, note: 'epoch 1/2' },
    ]);
    expect(isRunActive(s)).toBe(true);
    expect(s.backend).toBe('wasm');
    expect(s.nodes.a.status).toBe('cached');
    expect(s.nodes.b).toMatchObject({ status: 'running', fraction: 0.5, note: 'epoch 1/2' });
    expect(s.nodes.c.status).toBe('queued');
    const t = [
      { type: 'node-finished', runId: 'r1', nodeId: 'b', seconds: 1.5, summary: 'ok' },
      { type: 'node-started', runId: 'r1', nodeId: 'c', time: 2 },
      { type: 'node-failed', runId: 'r1', nodeId: 'c', seconds: 0.1, error: { message: 'boom', nodeType: 'x', param: 'lr' } },
      { type: 'run-finished', runId: 'r1', status: 'failed', seconds: 2, error: 'boom', nodes: { a: 'cached', b: 'done', c: 'failed' } },
    ] satisfies EngineEvent[];
    const u = t.reduce((acc, e) => applyRunEvent(acc, e, 0), s);
    expect(u.phase).toBe('failed');
    expect(u.nodes.b).toMatchObject({ status: 'done', seconds: 1.5 });
    expect(u.nodes.c.error).toEqual({ message: 'boom', nodeType: 'x', param: 'lr' });
    expect(u.log.filter((l) => l.level === 'error').map((l) => l.nodeId)).toEqual(['c', undefined]);
    expect(isRunActive(u)).toBe(false);
  });

  it('keeps the latest preview of each kind and ignores other runs', () => {
    const img: PreviewPayload = { kind: 'image-grid', columns: 1, images: [] };
    const curves1: PreviewPayload = { kind: 'curves', xLabel: 'epoch', series: [] };
    const curves2: PreviewPayload = { kind: 'curves', xLabel: 'epoch', series: [{ name: 'loss', group: 'loss', x: [1], y: [0.5] }] };
    const s = fold([
      { type: 'run-started', runId: 'r1', nodeIds: ['a'], backend: 'cpu', time: 0 },
      { type: 'node-preview', runId: 'r1', nodeId: 'a', preview: curves1 },
      { type: 'node-preview', runId: 'r1', nodeId: 'a', preview: img },
      { type: 'node-preview', runId: 'r1', nodeId: 'a', preview: curves2 },
      { type: 'node-preview', runId: 'other', nodeId: 'a', preview: curves1 },
      { type: 'run-started', runId: 'other', nodeIds: ['a'], backend: 'cpu', time: 0 },
    ]);
    expect(s.nodes.a.previewOrder).toEqual(['curves', 'image-grid']);
    expect(s.nodes.a.previews.curves).toBe(curves2);
    expect(s.nodes.a.status).toBe('queued');
    expect(s.runId).toBe('r1');
  });

  it('a cancelled run marks what was still in flight as cancelled', () => {
    const s = fold([
      { type: 'run-started', runId: 'r1', nodeIds: ['a', 'b'], backend: 'cpu', time: 0 },
      { type: 'node-started', runId: 'r1', nodeId: 'a', time: 0 },
      { type: 'run-finished', runId: 'r1', status: 'cancelled', seconds: 1, nodes: {} },
    ]);
    expect(s.nodes.a.status).toBe('cancelled');
    expect(s.nodes.b.status).toBe('cancelled');
    expect(s.phase).toBe('cancelled');
  });

  it('a failed run call resets in-flight nodes and logs the reason', () => {
    const s = failRun(fold([{ type: 'run-started', runId: 'r1', nodeIds: ['a'], backend: 'cpu', time: 0 }]), 'r1', 'connection lost', 0);
    expect(s.phase).toBe('failed');
    expect(s.nodes.a.status).toBe('idle');
    expect(s.log.at(-1)?.message).toBe('connection lost');
  });
});

describe('event coalescing', () => {
  it('folds a burst of events into one store update', async () => {
    const { runStore, enqueueRunEvent, flushRunEvents } = await import('../../renderer/src/stores/runStore.ts');
    runStore.setState(beginRun(initialRunState(), 'r9', 0));
    let updates = 0;
    const off = runStore.subscribe(() => updates++);
    enqueueRunEvent({ type: 'run-started', runId: 'r9', nodeIds: ['a'], backend: 'cpu', time: 0 });
    for (let i = 1; i <= 200; i++) enqueueRunEvent({ type: 'node-progress', runId: 'r9', nodeId: 'a', fraction: i / 200, note: `step ${i}` });
    expect(updates).toBe(0);
    flushRunEvents();
    off();
    expect(updates).toBe(1);
    expect(runStore.getState().nodes.a).toMatchObject({ status: 'queued', fraction: 1, note: 'step 200' });
  });
});
