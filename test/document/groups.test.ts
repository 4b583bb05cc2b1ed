import { describe, expect, it } from 'vitest';
import { parseDocumentText, serializeDocument, validateDocument } from '../../main/engine/document/index.ts';
import { savedGroups } from '../../main/protocol/index.ts';
import { serializeDocument as rendererSerialize } from '../../renderer/src/model/serialize.ts';
import { validPipeline } from './build.ts';
import { stubRegistry } from './stub-nodes.ts';

const registry = stubRegistry();

function grouped() {
  const doc = validPipeline();
  doc.groups = [
    { nodeIds: ['sum', 'c1'], label: 'Inputs', id: 'g1', color: '#4a90d9' },
    { id: 'g2', label: 'Output', nodeIds: ['fmt', 'save'] },
  ];
  doc.viewport = { x: 1, y: 2, zoom: 1 };
  return doc;
}

describe('groups in .dlflow documents', () => {
  it('serialise after edges and before viewport with a stable key order, and round-trip', () => {
    const text = serializeDocument(grouped());
    const keys = Object.keys(JSON.parse(text));
    expect(keys).toEqual(['format', 'version', 'nodes', 'edges', 'groups', 'viewport']);
    expect(text).toContain(`"groups": [
    {
      "id": "g1",
      "label": "Inputs",
      "color": "#4a90d9",
      "nodeIds": [
        "sum",
        "c1"
      ]
    },`);
    const parsed = parseDocumentText(text, { registry });
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.document!.groups).toEqual(grouped().groups!.map((g) => ({ ...g })));
    expect(serializeDocument(parsed.document!)).toBe(text);
    // The renderer writes the same bytes.
    expect(rendererSerialize(parsed.document!)).toBe(text);
  });

  it('a document without groups has no groups key', () => {
    const doc = validPipeline();
    expect(serializeDocument(doc)).not.toContain('groups');
    doc.groups = [];
    expect(serializeDocument(doc)).not.toContain('groups');
  });

  it('warns about member ids that are not nodes and drops them (and emptied groups) on save', () => {
    const doc = grouped();
    doc.groups = [
      { id: 'g1', label: 'Inputs', nodeIds: ['c1', 'gone', 'c1'] },
      { id: 'g2', label: '', nodeIds: ['nope'] },
      { id: 'g1', label: 'again', nodeIds: ['sum'] },
    ];
    const diagnostics = validateDocument(doc, registry).filter((d) => d.groupId);
    expect(diagnostics.map((d) => [d.severity, d.code, d.groupId])).toEqual([
      ['warning', 'dangling-group-member', 'g1'],
      ['warning', 'dangling-group-member', 'g2'],
      ['warning', 'duplicate-group-id', 'g1'],
    ]);
    expect(diagnostics[0]!.message).toMatch(/group "g1" \("Inputs"\): "gone" is not a node of this document \(dropped when saved\)/);
    const saved = JSON.parse(serializeDocument(doc)).groups;
    expect(saved).toEqual([
      { id: 'g1', label: 'Inputs', nodeIds: ['c1'] },
      { id: 'g1', label: 'again', nodeIds: ['sum'] },
    ]);
    expect(savedGroups(doc.groups, [])).toEqual([]);
  });

  it('reports a malformed group naming it and the field', () => {
    const doc = JSON.parse(serializeDocument(grouped()));
    doc.groups[1].nodeIds = 'fmt';
    doc.groups[0].extra = 1;
    const parsed = parseDocumentText(JSON.stringify(doc), { registry });
    expect(parsed.document).toBeUndefined();
    expect(parsed.diagnostics.map((d) => d.message)).toContain('group "g2": "nodeIds" must be an array, got "fmt"');
    // Missing label/nodeIds are lenient defaults in hand-written files; an unknown field is a warning.
    delete doc.groups[1].nodeIds;
    const lenient = parseDocumentText(JSON.stringify(doc), { registry });
    expect(lenient.document!.groups![1]).toEqual({ id: 'g2', label: 'Output', nodeIds: [] });
    expect(lenient.diagnostics.map((d) => d.message).join('\n')).toMatch(/group "g1": unknown field "extra"/);
  });
});
