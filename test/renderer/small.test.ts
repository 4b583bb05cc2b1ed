// Small pure helpers: slider scale, curves layout, recent files/recovery, JSON schema, serializer parity.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serializeDocument as engineSerialize } from '../../main/engine/document/index.ts';
import type { DlflowDocument } from '../../main/protocol/index.ts';
import { layoutCurves } from '../../renderer/src/model/curves.ts';
import { documentJsonSchema, lineOfNode, paramJsonSchema } from '../../renderer/src/model/documentSchema.ts';
import { sliderScale, snap } from '../../renderer/src/model/numbers.ts';
import { clearRecovery, dirname, pushRecent, readRecent, readRecovery, writeRecovery, RECENT_LIMIT } from '../../renderer/src/model/recent.ts';
import { serializeDocument } from '../../renderer/src/model/serialize.ts';
import { catalog, sampleDoc } from './fixtures.ts';

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) };
}

describe('slider scale', () => {
  it('is linear for small ranges and logarithmic across decades', () => {
    const lin = sliderScale(0, 1);
    expect(lin.log).toBe(false);
    expect(lin.toSlider(0.25)).toBe(0.25);
    expect(snap(lin.fromSlider(0.333), 0, 0.05)).toBe(0.35);
    const log = sliderScale(1e-7, 10);
    expect(log.log).toBe(true);
    expect(log.fromSlider(0)).toBeCloseTo(1e-7);
    expect(log.fromSlider(1)).toBeCloseTo(10);
    expect(log.toSlider(1e-3)).toBeCloseTo(0.5);
  });
});

describe('curves layout', () => {
  it('makes one panel per group, validation dashed in its training twin colour, accuracy on 0..1', () => {
    const panels = layoutCurves(
      {
        kind: 'curves',
        xLabel: 'epoch',
        xMax: 10,
        series: [
          { name: 'loss', group: 'loss', x: [1, 2], y: [2, 1] },
          { name: 'val_loss', group: 'loss', x: [1, 2], y: [2.5, 1.5] },
          { name: 'accuracy', group: 'accuracy', x: [1, 2], y: [0.5, 0.7] },
        ],
      },
      200,
      100,
    );
    expect(panels.map((p) => p.group)).toEqual(['loss', 'accuracy']);
    expect(panels[0].lines[1]).toMatchObject({ dashed: true, color: panels[0].lines[0].color });
    expect(panels[0].xMax).toBe(10);
    expect(panels[1]).toMatchObject({ yMin: 0, yMax: 1 });
    expect(panels[0].lines[0].points.split(' ')).toHaveLength(2);
  });
});

describe('recent files and recovery', () => {
  it('keeps recent paths unique, newest first, bounded', () => {
    const s = memoryStorage();
    for (let i = 0; i < RECENT_LIMIT + 3; i++) pushRecent(s, `/p${i}.dlflow`);
    pushRecent(s, '/p5.dlflow');
    const list = readRecent(s);
    expect(list[0]).toBe('/p5.dlflow');
    expect(list).toHaveLength(RECENT_LIMIT);
    expect(new Set(list).size).toBe(list.length);
  });

  it('round-trips a recovery copy and ignores garbage', () => {
    const s = memoryStorage();
    writeRecovery(s, { path: '/a.dlflow', time: 5, document: sampleDoc() });
    expect(readRecovery(s)?.document.nodes).toHaveLength(3);
    clearRecovery(s);
    expect(readRecovery(s)).toBeUndefined();
    s.setItem('dlflow:recovery', '{"time":1,"document":{"format":"x"}}');
    expect(readRecovery(s)).toBeUndefined();
    s.setItem('dlflow:recent', 'nope');
    expect(readRecent(s)).toEqual([]);
    expect(dirname('/a/b/c.dlflow')).toBe('/a/b');
    expect(dirname('c.dlflow')).toBe('.');
  });
});

describe('document text', () => {
  it('serialises exactly as the engine writes files', () => {
    const hello = JSON.parse(readFileSync(new URL('../../samples/hello.dlflow', import.meta.url), 'utf8')) as DlflowDocument;
    expect(serializeDocument(hello)).toBe(engineSerialize(hello));
    const doc = sampleDoc();
    doc.nodes[0].typeVersion = 2;
    expect(serializeDocument(doc)).toBe(engineSerialize(doc));
  });

  it('builds a JSON schema with each param kind and finds a node line', () => {
    const schema = documentJsonSchema(catalog) as any;
    const rules = schema.properties.nodes.items.allOf;
    expect(rules).toHaveLength(3);
    expect(rules[1].then.properties.params.properties.p).toMatchObject({ type: 'number', minimum: 0, maximum: 1 });
    expect(paramJsonSchema({ kind: 'enum', default: 'a', options: ['a', 'b'] })).toMatchObject({ enum: ['a', 'b'] });
    expect(paramJsonSchema({ kind: 'seed', default: 1 })).toMatchObject({ type: 'integer', minimum: 0 });
    const text = serializeDocument(sampleDoc());
    expect(text.split('\n')[lineOfNode(text, 'flip-1')! - 1]).toContain('"id": "flip-1"');
  });
});
