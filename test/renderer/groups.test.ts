import { describe, expect, it } from 'vitest';
import type { DlflowDocument } from '../../main/protocol/index.ts';
import { flowToDocument, documentToFlow } from '../../renderer/src/model/flowConversion.ts';
import {
  DEFAULT_NODE_SIZE,
  GROUP_PADDING,
  groupBounds,
  groupFlowId,
  groupIdOfFlow,
  groupNodes,
  isGroupFlowId,
  memberMoves,
  GROUP_COLORS,
  nextGroupColor,
  setGroupColor,
  setGroupLabel,
  ungroup,
} from '../../renderer/src/model/groups.ts';
import { serializeDocument } from '../../renderer/src/model/serialize.ts';
import { removeElements } from '../../renderer/src/model/documentOps.ts';

function doc(): DlflowDocument {
  return {
    format: 'dlflow',
    version: 1,
    nodes: [
      { id: 'a', type: 't', params: {}, position: { x: 0, y: 0 } },
      { id: 'b', type: 't', params: {}, position: { x: 300, y: 100 } },
      { id: 'c', type: 't', params: {}, position: { x: 600, y: 0 } },
    ],
    edges: [],
  };
}

describe('groups model', () => {
  it('groups existing nodes under a fresh id, moving them out of other groups', () => {
    const one = groupNodes(doc(), ['a', 'b', 'missing'], 'Inputs');
    expect(one.groupId).toBe('g1');
    expect(one.doc.groups).toEqual([{ id: 'g1', label: 'Inputs', nodeIds: ['a', 'b'] }]);
    const two = groupNodes(one.doc, ['b', 'c']);
    expect(two.groupId).toBe('g2');
    expect(two.doc.groups).toEqual([
      { id: 'g1', label: 'Inputs', nodeIds: ['a'] },
      { id: 'g2', label: 'Group', nodeIds: ['b', 'c'] },
    ]);
    // Taking the last member empties and drops g1.
    expect(groupNodes(two.doc, ['a']).doc.groups!.map((g) => g.id)).toEqual(['g2', 'g3']);
    // Nothing to group: the same document.
    const d = doc();
    expect(groupNodes(d, ['nope']).doc).toBe(d);
  });

  it('renames and ungroups immutably; the last ungroup removes the key', () => {
    const { doc: g } = groupNodes(doc(), ['a']);
    const renamed = setGroupLabel(g, 'g1', 'Data');
    expect(renamed.groups![0]!.label).toBe('Data');
    expect(g.groups![0]!.label).toBe('Group');
    expect(setGroupLabel(renamed, 'g1', 'Data')).toBe(renamed);
    const none = ungroup(renamed, ['g1']);
    expect('groups' in none).toBe(false);
    expect(none.nodes).toBe(renamed.nodes);
    expect(ungroup(none, ['g1'])).toBe(none);
  });

  it('frames the members (measured or default size) with padding; none left → no frame', () => {
    const { doc: g } = groupNodes(doc(), ['a', 'b']);
    const sizes = new Map([['b', { width: 100, height: 50 }]]);
    expect(groupBounds(g.groups![0]!, g, sizes)).toEqual({
      x: -GROUP_PADDING.side,
      y: -GROUP_PADDING.top,
      width: 400 + 2 * GROUP_PADDING.side,
      height: Math.max(DEFAULT_NODE_SIZE.height, 150) + GROUP_PADDING.top + GROUP_PADDING.bottom,
    });
    expect(groupBounds({ id: 'x', label: '', nodeIds: ['gone'] }, g, sizes)).toBeUndefined();
  });

  it('a dragged frame moves its members by the same delta, except those already moving', () => {
    const { doc: g } = groupNodes(doc(), ['a', 'b']);
    const moves = memberMoves(g, new Map([['g1', { from: { x: -24, y: -44 }, to: { x: 6, y: -34 } }]]), new Set(['b']));
    expect([...moves]).toEqual([['a', { x: 30, y: 10 }]]);
    expect(memberMoves(g, new Map([['g1', { from: { x: 1, y: 1 }, to: { x: 1, y: 1 } }]]), new Set()).size).toBe(0);
  });

  it('cycles frame colours and back to the default, which is saved without a color key', () => {
    expect(nextGroupColor(undefined)).toBe(GROUP_COLORS[0]);
    expect(nextGroupColor(GROUP_COLORS[0])).toBe(GROUP_COLORS[1]);
    expect(nextGroupColor(GROUP_COLORS.at(-1))).toBeUndefined();
    expect(nextGroupColor('#123456')).toBe(GROUP_COLORS[0]);
    const g = groupNodes(doc(), ['a']).doc;
    const red = setGroupColor(g, 'g1', '#e05561');
    expect(red.groups![0]!.color).toBe('#e05561');
    const plain = setGroupColor(red, 'g1', undefined);
    expect('color' in plain.groups![0]!).toBe(false);
    expect(setGroupColor(plain, 'g1', undefined)).toBe(plain);
    expect(JSON.parse(serializeDocument(red)).groups[0]).toEqual({ id: 'g1', label: 'Group', color: '#e05561', nodeIds: ['a'] });
  });

  it('deleting nodes takes them out of their groups and drops emptied groups', () => {
    const one = groupNodes(doc(), ['a', 'b']).doc;
    const two = groupNodes(one, ['c']).doc;
    const r = removeElements(two, ['b', 'c']);
    expect(r.groups).toEqual([{ id: 'g1', label: 'Group', nodeIds: ['a'] }]);
    expect('groups' in removeElements(r, ['a'])).toBe(false);
  });

  it('frame ids round-trip and groups survive the flow conversion and saving', () => {
    expect(isGroupFlowId(groupFlowId('g7'))).toBe(true);
    expect(isGroupFlowId('a')).toBe(false);
    expect(groupIdOfFlow(groupFlowId('g7'))).toBe('g7');
    const { doc: g } = groupNodes(doc(), ['c', 'a'], 'Ends');
    const flow = documentToFlow(g);
    expect(flowToDocument(g, flow.nodes, flow.edges).groups).toEqual(g.groups);
    expect(JSON.parse(serializeDocument(g)).groups).toEqual([{ id: 'g1', label: 'Ends', nodeIds: ['c', 'a'] }]);
  });
});
