import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDocumentText } from '../../main/engine/document/index.ts';
import { createRegistry } from '../../main/engine/registry.ts';
import { allNodes, allPortTypes } from '../../nodes/index.ts';

describe('node library', () => {
  it('passes the registry invariants', () => {
    const registry = createRegistry(allNodes, allPortTypes);
    const ids = registry.catalog().nodes.map((n) => n.id);
    for (const id of [
      'dlflow:data:sample-signs',
      'dlflow:data:split',
      'dlflow:model:simple-cnn',
      'dlflow:train:train-classifier',
      'dlflow:evaluate:evaluate-classifier',
    ])
      expect(ids).toContain(id);
  });

  it('gives every port type dispose-safe save and load for the disk cache', () => {
    for (const p of allPortTypes) {
      expect(typeof p.save, p.id).toBe('function');
      expect(typeof p.load, p.id).toBe('function');
    }
  });

  it('parses samples/hello.dlflow without any diagnostic', () => {
    const text = readFileSync(new URL('../../samples/hello.dlflow', import.meta.url), 'utf8');
    const result = parseDocumentText(text, { registry: createRegistry(allNodes, allPortTypes), path: 'samples/hello.dlflow' });
    expect(result.diagnostics).toEqual([]);
    expect(result.document?.nodes.map((n) => n.type)).toEqual([
      'dlflow:data:sample-signs',
      'dlflow:data:split',
      'dlflow:model:simple-cnn',
      'dlflow:train:train-classifier',
      'dlflow:evaluate:evaluate-classifier',
    ]);
  });
});
