import { describe, expect, it } from 'vitest';
import { checkConnection } from '../../renderer/src/model/connections.ts';
import { compatibleNodes, indexCatalog } from '../../renderer/src/model/catalog.ts';
import { connect } from '../../renderer/src/model/documentOps.ts';
import { catalog, sampleDoc } from './fixtures.ts';

const index = indexCatalog(catalog);
const attempt = (source: string, sourceHandle: string, target: string, targetHandle: string) => ({ source, sourceHandle, target, targetHandle });

describe('connection checks', () => {
  it('accepts matching port types', () => {
    const doc = sampleDoc();
    doc.edges = [];
    expect(checkConnection(doc, index, attempt('load-1', 'dataset', 'train-1', 'dataset'))).toEqual({ ok: true });
  });

  it('refuses a type mismatch and names both ports and types', () => {
    const r = checkConnection(sampleDoc(), index, attempt('load-1', 'dataset', 'train-1', 'model'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/Load\.dataset gives Dataset.*Train\.model takes Model/);
  });

  it('refuses self-loops, cycles, unknown ports and unknown node types', () => {
    const doc = sampleDoc();
    expect(checkConnection(doc, index, attempt('flip-1', 'dataset', 'flip-1', 'dataset')).ok).toBe(false);
    const cyc = checkConnection(doc, index, attempt('flip-1', 'dataset', 'flip-1', 'dataset'));
    expect(cyc.ok).toBe(false);
    // train-1 has no dataset output, so use a 2-flip loop: flip-2 → flip-1 while flip-1 → flip-2.
    const loop = connect({ ...doc, nodes: [...doc.nodes, { id: 'flip-2', type: 'test:augment:flip', params: {}, position: { x: 0, y: 0 } }] }, {
      source: 'flip-1', sourceHandle: 'dataset', target: 'flip-2', targetHandle: 'dataset',
    }).doc;
    const r = checkConnection(loop, index, attempt('flip-2', 'dataset', 'flip-1', 'dataset'));
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/cycle/) });
    expect(checkConnection(doc, index, attempt('load-1', 'nope', 'flip-1', 'dataset'))).toEqual({ ok: false, reason: expect.stringMatching(/no output "nope"/) });
    const withUnknown = { ...doc, nodes: [...doc.nodes, { id: 'x', type: 'gone:type', params: {}, position: { x: 0, y: 0 } }] };
    expect(checkConnection(withUnknown, index, attempt('x', 'out', 'flip-1', 'dataset'))).toEqual({ ok: false, reason: expect.stringMatching(/unknown type/) });
  });

  it('one edge per input: connecting onto an occupied input replaces the old wire', () => {
    const doc = sampleDoc();
    const extra = { ...doc, nodes: [...doc.nodes, { id: 'load-2', type: 'test:data:load', params: {}, position: { x: 0, y: 200 } }] };
    expect(checkConnection(extra, index, attempt('load-2', 'dataset', 'flip-1', 'dataset')).ok).toBe(true);
    const { doc: next, edgeId } = connect(extra, { source: 'load-2', sourceHandle: 'dataset', target: 'flip-1', targetHandle: 'dataset' });
    const into = next.edges.filter((e) => e.target === 'flip-1' && e.targetHandle === 'dataset');
    expect(into).toHaveLength(1);
    expect(into[0].id).toBe(edgeId);
    expect(into[0].source).toBe('load-2');
  });

  it('lists only node types that can take a wire from a port', () => {
    expect(compatibleNodes(index, 'dataset', 'source').map((c) => c.schema.id)).toEqual(['test:augment:flip', 'test:train:train']);
    expect(compatibleNodes(index, 'model', 'source').map((c) => `${c.schema.id}:${c.port}`)).toEqual(['test:train:train:model']);
    expect(compatibleNodes(index, 'model', 'target').map((c) => c.schema.id)).toEqual(['test:train:train']);
  });
});

describe('align', () => {
  it('aligns edges and centres, and distributes with equal gaps', async () => {
    const { alignPositions } = await import('../../renderer/src/model/documentOps.ts');
    const boxes = [
      { id: 'a', x: 0, y: 0, width: 100, height: 50 },
      { id: 'b', x: 300, y: 40, width: 200, height: 30 },
      { id: 'c', x: 120, y: 100, width: 50, height: 50 },
    ];
    expect([...alignPositions(boxes, 'left').values()].map((p) => p.x)).toEqual([0, 0, 0]);
    expect(alignPositions(boxes, 'right').get('c')).toEqual({ x: 450, y: 100 });
    expect(alignPositions(boxes, 'bottom').get('b')).toEqual({ x: 300, y: 120 });
    expect(alignPositions(boxes, 'center-y').get('a')).toEqual({ x: 0, y: 50 });
    const d = alignPositions(boxes, 'distribute-x');
    // span 0..500, widths 350 → two gaps of 75: a at 0, c at 175, b at 300.
    expect(d.get('a')!.x).toBe(0);
    expect(d.get('c')!.x).toBe(175);
    expect(d.get('b')!.x).toBe(300);
    expect(alignPositions(boxes.slice(0, 1), 'left').size).toBe(0);
  });
});
