import { describe, expect, it } from 'vitest';
import { clipboardText, copySelection, parseClipboard, pasteInto } from '../../renderer/src/model/clipboard.ts';
import { serializeDocument } from '../../renderer/src/model/serialize.ts';
import { sampleDoc } from './fixtures.ts';

describe('clipboard', () => {
  it('copies nodes and only the edges among them', () => {
    const p = copySelection(sampleDoc(), ['flip-1', 'train-1']);
    expect(p.nodes.map((n) => n.id)).toEqual(['flip-1', 'train-1']);
    expect(p.edges.map((e) => e.id)).toEqual(['flip-1.dataset->train-1.dataset']);
  });

  it('pastes with fresh ids, remapped edges, offset positions and independent params', () => {
    const doc = sampleDoc();
    const text = clipboardText(copySelection(doc, ['load-1', 'flip-1']));
    const payload = parseClipboard(text)!;
    const { doc: next, ids } = pasteInto(doc, payload, { offset: { x: 40, y: 40 } });
    expect(ids).toEqual(['load-2', 'flip-2']);
    expect(next.nodes).toHaveLength(5);
    const pasted = next.nodes.find((n) => n.id === 'flip-2')!;
    expect(pasted.position).toEqual({ x: 340, y: 40 });
    expect(pasted.label).toBe('Flip it');
    expect(next.edges.at(-1)).toMatchObject({ source: 'load-2', target: 'flip-2', sourceHandle: 'dataset', targetHandle: 'dataset' });
    expect(new Set(next.edges.map((e) => e.id)).size).toBe(next.edges.length);
    (pasted.params as { p: number }).p = 0.1;
    expect(doc.nodes[1].params.p).toBe(0.5);
  });

  it('places a paste at a point and pastes into another document', () => {
    const payload = parseClipboard(clipboardText(copySelection(sampleDoc(), ['flip-1', 'train-1'])))!;
    const other = { format: 'dlflow' as const, version: 1, nodes: [], edges: [] };
    const { doc, ids } = pasteInto(other, payload, { at: { x: 1000, y: 500 } });
    expect(ids).toEqual(['flip-1', 'train-1']);
    expect(doc.nodes.map((n) => n.position)).toEqual([{ x: 1000, y: 500 }, { x: 1300, y: 500 }]);
    expect(doc.edges).toHaveLength(1);
  });

  it('accepts a whole .dlflow document and rejects anything else', () => {
    expect(parseClipboard(serializeDocument(sampleDoc()))?.nodes).toHaveLength(3);
    expect(parseClipboard('hello')).toBeUndefined();
    expect(parseClipboard('{"format":"other","nodes":[]}')).toBeUndefined();
    expect(parseClipboard('{"format":"dlflow-clipboard","nodes":[{"id":1}]}')).toBeUndefined();
  });
});
