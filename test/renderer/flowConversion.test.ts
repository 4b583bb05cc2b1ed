import { describe, expect, it } from 'vitest';
import { createFlowCache, documentToFlow, flowToDocument } from '../../renderer/src/model/flowConversion.ts';
import { indexCatalog } from '../../renderer/src/model/catalog.ts';
import { moveNodes, setParam } from '../../renderer/src/model/documentOps.ts';
import { serializeDocument } from '../../renderer/src/model/serialize.ts';
import { catalog, sampleDoc } from './fixtures.ts';

describe('document <-> React Flow', () => {
  it('maps nodes and edges with port keys as handle ids, and round-trips exactly', () => {
    const doc = sampleDoc();
    const index = indexCatalog(catalog);
    const { nodes, edges } = documentToFlow(doc, { index, selectedNodes: new Set(['flip-1']) });
    expect(nodes.map((n) => n.id)).toEqual(['load-1', 'flip-1', 'train-1']);
    expect(nodes[1].selected).toBe(true);
    expect(nodes[0].position).toEqual({ x: 0, y: 0 });
    expect(edges[0]).toMatchObject({ source: 'load-1', sourceHandle: 'dataset', target: 'flip-1', targetHandle: 'dataset' });
    expect(edges[0].style).toEqual({ stroke: '#4caf50' });
    const back = flowToDocument(doc, nodes, edges);
    expect(back).toEqual(doc);
    expect(serializeDocument(back)).toBe(serializeDocument(doc));
    // No React Flow fields leak into the saved form.
    expect(serializeDocument(back)).not.toMatch(/selected|"data"|style|measured/);
  });

  it('takes dragged positions back into the document, rounded', () => {
    const doc = sampleDoc();
    const { nodes, edges } = documentToFlow(doc);
    nodes[0] = { ...nodes[0], position: { x: 10.4, y: -3.6 } };
    expect(flowToDocument(doc, nodes, edges).nodes[0].position).toEqual({ x: 10, y: -4 });
  });

  it('keeps placeholder (unknown type) nodes with their params', () => {
    const doc = sampleDoc();
    doc.nodes.push({ id: 'mystery', type: 'other:thing', params: { a: [1, 2] }, position: { x: 1, y: 2 } });
    const { nodes, edges } = documentToFlow(doc, { index: indexCatalog(catalog) });
    expect(flowToDocument(doc, nodes, edges).nodes[3]).toEqual({ id: 'mystery', type: 'other:thing', params: { a: [1, 2] }, position: { x: 1, y: 2 } });
  });

  it('the cache reuses unchanged node objects so only edited nodes re-render', () => {
    const convert = createFlowCache();
    const index = indexCatalog(catalog);
    const doc = sampleDoc();
    const a = convert(doc, index, new Set(), new Set());
    const moved = moveNodes(doc, new Map([['flip-1', { x: 5, y: 5 }]]));
    const b = convert(moved, index, new Set(), new Set());
    expect(b.nodes[0]).toBe(a.nodes[0]);
    expect(b.nodes[1]).not.toBe(a.nodes[1]);
    expect(b.nodes[1].position).toEqual({ x: 5, y: 5 });
    expect(b.edges[0]).toBe(a.edges[0]);
    const c = convert(setParam(moved, 'train-1', 'epochs', 5), index, new Set(['load-1']), new Set());
    expect(c.nodes[0]).not.toBe(b.nodes[0]);
    expect(c.nodes[0].selected).toBe(true);
    expect(c.nodes[1]).toBe(b.nodes[1]);
  });
});
