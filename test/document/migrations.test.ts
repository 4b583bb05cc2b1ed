import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DocumentMigration } from '../../main/engine/document/index.ts';
import {
  DOCUMENT_MIGRATIONS,
  migrateDocument,
  MigrationError,
  parseDocumentText,
  serializeDocument,
  stampTypeVersions,
} from '../../main/engine/document/index.ts';
import { defineNode } from '../../main/engine/node-api.ts';
import { createRegistry } from '../../main/engine/registry.ts';
import { DOCUMENT_VERSION } from '../../main/protocol/index.ts';
import { edge, makeDoc, node } from './build.ts';
import { stubNodes, stubPortTypes, stubRegistry } from './stub-nodes.ts';

const registry = stubRegistry();
const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('document migrations', () => {
  it('form one chain from version 0 to the current version', () => {
    let version = 0;
    for (const m of DOCUMENT_MIGRATIONS) {
      expect(m.from).toBe(version);
      expect(m.to).toBe(version + 1);
      version = m.to;
    }
    expect(version).toBe(DOCUMENT_VERSION);
  });

  it('upgrade the legacy v0 fixture: names for positional ports, node param migrations, placeholder kept', () => {
    const r = parseDocumentText(fixture('legacy-v0.dlflow'), { registry, path: 'legacy-v0.dlflow' });
    expect(r.diagnostics).toEqual([
      {
        severity: 'error',
        code: 'unknown-node-type',
        nodeId: 'plot',
        message: 'node "plot" (stub:viz:old-plotter): unknown node type "stub:viz:old-plotter"; kept as a placeholder, it cannot run',
      },
    ]);
    const doc = r.document!;
    expect(doc.version).toBe(DOCUMENT_VERSION);
    expect(doc.edges.map((e) => `${e.id}: ${e.source}.${e.sourceHandle} → ${e.target}.${e.targetHandle}`)).toEqual([
      'e1: two.out → sum.a',
      'e2: three.out → sum.b',
      'e3: sum.sum → train.data',
      'e4: sum.sum → fmt.value',
      'e5: fmt.text → plot.#2',
    ]);
    // lr → learningRate (node v2), sgd-momentum → momentum (node v3); stamped as v3.
    expect(doc.nodes.find((n) => n.id === 'train')).toEqual({
      id: 'train',
      type: 'stub:train:train-classifier',
      typeVersion: 3,
      params: { optimizer: 'momentum', learningRate: 0.01, epochs: 20 },
      position: { x: 480, y: 60 },
    });
    expect(doc.nodes.find((n) => n.id === 'plot')).toEqual({
      id: 'plot',
      type: 'stub:viz:old-plotter',
      label: 'Plot (retired node)',
      params: { style: { line: 'dashed', color: 'red' }, size: [4, 3] },
      position: { x: 700, y: 220 },
    });
    expect(doc.viewport).toEqual({ x: -20, y: 10, zoom: 0.8 });
    expect(serializeDocument(doc)).toBe(fixture('legacy-v0.expected.dlflow'));
  });

  it('the upgraded fixture reads back as itself', () => {
    const text = fixture('legacy-v0.expected.dlflow');
    const r = parseDocumentText(text, { registry });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['unknown-node-type']);
    expect(serializeDocument(r.document!)).toBe(text);
  });

  it('report a v0 file too broken to upgrade, naming the link', () => {
    const r = parseDocumentText(fixture('legacy-v0-bad-link.dlflow'), { registry, path: 'bad.dlflow' });
    expect(r.document).toBeUndefined();
    expect(r.diagnostics).toEqual([
      {
        severity: 'error',
        code: 'invalid-document',
        message:
          'bad.dlflow: cannot upgrade from version 0 to 1: link #1: expected { "from": [nodeId, index], "to": [nodeId, index] }',
      },
    ]);
  });

  it('warn about a v0 port index the node type does not have, keeping it visible', () => {
    const text = JSON.stringify({
      format: 'dlflow',
      version: 0,
      nodes: [
        { id: 'c', kind: 'stub:source:constant', settings: {}, pos: [0, 0] },
        { id: 's', kind: 'stub:math:add', settings: {}, pos: [1, 1] },
      ],
      links: [
        { from: ['c', 0], to: ['s', 0] },
        { from: ['c', 3], to: ['s', 1] },
      ],
    });
    const r = parseDocumentText(text, { registry });
    expect(r.document?.edges[1]).toMatchObject({ sourceHandle: '#3', targetHandle: 'b' });
    expect(r.diagnostics.map((d) => `${d.severity} ${d.code}: ${d.message}`)).toEqual([
      'warning invalid-document: link #2: node "c" (stub:source:constant) has no output #3; kept as "#3"',
      'error unknown-port: node "c" (stub:source:constant): has no output "#3" (outputs: out), used by edge "e2"',
    ]);
  });

  it('stop at a gap in the chain with a clear error', () => {
    const only: DocumentMigration[] = [{ from: 1, to: 2, summary: 'x', migrate: (r) => r }];
    expect(() => migrateDocument({ version: 0 }, { registry, warn: () => {} }, only)).toThrow(
      new MigrationError('no migration from document version 0'),
    );
  });
});

describe('node param migrations', () => {
  const text = (typeVersion: number | undefined, params: Record<string, unknown>) =>
    serializeDocument(
      makeDoc([node('c', 'stub:source:constant'), node('t', 'stub:train:train-classifier', params, { typeVersion })], [edge('c.out', 't.data')]),
    );

  it('apply only the migrations above the saved node version', () => {
    // Saved by v2: "lr" was already renamed then, so a stray "lr" is not touched by the v2 step.
    const r = parseDocumentText(text(2, { learningRate: 0.5, optimizer: 'sgd-momentum', lr: 0.1 }), { registry });
    expect(r.document?.nodes[1].params).toEqual({ learningRate: 0.5, optimizer: 'momentum', lr: 0.1 });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['param-unknown']);
  });

  it('stamp new nodes (no typeVersion) with the current version on write, so they are not migrated again', () => {
    const fresh = makeDoc([node('c', 'stub:source:constant'), node('t', 'stub:train:train-classifier', { learningRate: 0.3 })], [edge('c.out', 't.data')]);
    const stamped = stampTypeVersions(fresh, registry);
    expect(stamped.nodes.map((n) => n.typeVersion)).toEqual([undefined, 3]);
    expect(fresh.nodes[1].typeVersion).toBeUndefined();
  });

  it('treat a node without typeVersion as version 1', () => {
    const r = parseDocumentText(text(undefined, { lr: 0.2 }), { registry });
    expect(r.diagnostics).toEqual([]);
    expect(r.document?.nodes[1]).toMatchObject({ typeVersion: 3, params: { learningRate: 0.2 } });
  });

  it('refuse to downgrade params saved by a newer node version, and keep them as saved', () => {
    const saved = text(7, { learningRate: 0.5, turbo: true });
    const r = parseDocumentText(saved, { registry });
    expect(serializeDocument(stampTypeVersions(r.document!, registry))).toBe(saved);
    expect(r.diagnostics).toEqual([
      {
        severity: 'error',
        code: 'newer-version',
        nodeId: 't',
        message:
          'node "t" (stub:train:train-classifier): saved by version 7 of this node type, but this dlflow has version 3; update dlflow (params kept as saved)',
      },
    ]);
    expect(serializeDocument(r.document!)).toBe(saved);
  });

  it('report a node migration that throws, naming the node', () => {
    const fragile = defineNode({
      id: 'stub:math:fragile',
      version: 2,
      name: 'Fragile',
      category: 'math',
      description: '',
      inputs: {},
      params: { n: { kind: 'integer', default: 1 } },
      outputs: {},
      migrations: [
        {
          toVersion: 2,
          migrate: (p) => {
            if (typeof p.count !== 'number') throw new Error('"count" is not a number');
            return { n: p.count };
          },
        },
      ],
      run: async () => ({}),
    });
    const reg = createRegistry([...stubNodes, fragile], stubPortTypes);
    const doc = serializeDocument(makeDoc([node('f', 'stub:math:fragile', { count: 'x' }), node('g', 'stub:math:fragile', { count: 4 })]));
    const r = parseDocumentText(doc, { registry: reg });
    expect(r.diagnostics).toEqual([
      {
        severity: 'error',
        code: 'param-invalid',
        nodeId: 'f',
        message: 'node "f" (stub:math:fragile): cannot upgrade params saved by node version 1 to version 2: "count" is not a number',
      },
    ]);
    // "f" keeps an explicit version 1, so saving does not pass its old params off as version 2.
    expect(r.document?.nodes.map((n) => [n.params, n.typeVersion])).toEqual([
      [{ count: 'x' }, 1],
      [{ n: 4 }, 2],
    ]);
    const written = serializeDocument(stampTypeVersions(r.document!, reg));
    const again = parseDocumentText(written, { registry: reg });
    expect(again.diagnostics.map((d) => d.code)).toEqual(['param-invalid']);
    expect(serializeDocument(again.document!)).toBe(written);
  });
});
