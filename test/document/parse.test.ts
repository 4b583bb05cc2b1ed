import { describe, expect, it } from 'vitest';
import { findJsonError, parseDocumentText, serializeDocument } from '../../main/engine/document/index.ts';
import { DOCUMENT_VERSION } from '../../main/protocol/index.ts';
import { validPipeline } from './build.ts';
import { stubRegistry } from './stub-nodes.ts';

const registry = stubRegistry();
const parse = (text: string) => parseDocumentText(text, { registry, path: 'p.dlflow' });

describe('malformed JSON', () => {
  const cases: [string, string, number, number, string][] = [
    ['missing comma', '{\n  "format": "dlflow"\n  "version": 1\n}', 3, 3, "expected ',' or '}' after a property value, found '\"'"],
    ['trailing comma', '{\n  "nodes": [\n    1,\n  ],\n}', 4, 3, 'expected a value (no trailing commas in JSON), found \']\''],
    ['unquoted key', '{\n  format: "dlflow"\n}', 2, 3, "expected a double-quoted property name, found 'f'"],
    ['bad literal', '{ "a": tru }', 1, 11, "expected 'true', found ' '"],
    ['unclosed string', '{\n  "a": "abc\n}', 2, 12, 'string not closed before end of line'],
    ['truncated file', '{\n  "nodes": [\n', 3, 1, 'expected a value, found end of file'],
    ['empty file', '  \n', 2, 1, 'the file is empty'],
    ['two values', '{}\n{}', 2, 1, "expected end of file after the top-level value, found '{'"],
    ['single quotes', "{ 'a': 1 }", 1, 3, "expected a double-quoted property name, found '''"],
  ];
  for (const [name, text, line, column, why] of cases) {
    it(`${name}: line ${line}, column ${column}`, () => {
      expect(() => JSON.parse(text)).toThrow();
      const result = parse(text);
      expect(result.document).toBeUndefined();
      expect(result.diagnostics).toEqual([
        { severity: 'error', code: 'malformed-json', line, column, message: `p.dlflow: malformed JSON at line ${line}, column ${column}: ${why}` },
      ]);
    });
  }

  it('the scanner accepts everything JSON.parse accepts', () => {
    for (const text of [serializeDocument(validPipeline()), '"x"', '[1, -2.5e+3, true, false, null, "\\u00e9\\n"]', '{"a":{"b":[]}}']) {
      expect(findJsonError(text)).toBeUndefined();
    }
  });

  it('a byte-order mark is not an error', () => {
    const result = parse(`\ufeff${serializeDocument(validPipeline())}`);
    expect(result.diagnostics).toEqual([]);
    expect(result.document).toEqual(validPipeline());
  });
});

describe('format and version', () => {
  const refuse = (text: string) => {
    const r = parse(text);
    expect(r.document).toBeUndefined();
    expect(r.diagnostics).toHaveLength(1);
    return r.diagnostics[0];
  };

  it('refuses a file that is not a dlflow document', () => {
    expect(refuse('[1, 2]').message).toBe('p.dlflow: not a dlflow document (the top level is an array, expected an object)');
    expect(refuse('{"nodes": []}').message).toBe('p.dlflow: not a dlflow document (no "format": "dlflow")');
    expect(refuse('{"format": "comfy", "version": 1}')).toEqual({
      severity: 'error',
      code: 'invalid-document',
      message: 'p.dlflow: not a dlflow document ("format" is "comfy", expected "dlflow")',
    });
  });

  it('refuses a missing or malformed version', () => {
    expect(refuse('{"format": "dlflow", "nodes": []}').message).toBe('p.dlflow: "version" must be a whole number, got nothing');
    expect(refuse('{"format": "dlflow", "version": "1"}').message).toBe('p.dlflow: "version" must be a whole number, got "1"');
    expect(refuse('{"format": "dlflow", "version": 1.5}').message).toBe('p.dlflow: "version" must be a whole number, got 1.5');
  });

  it('refuses a file written by a newer dlflow instead of downgrading it', () => {
    const newer = DOCUMENT_VERSION + 1;
    expect(refuse(`{"format": "dlflow", "version": ${newer}, "nodes": [], "brandNew": {}}`)).toEqual({
      severity: 'error',
      code: 'newer-version',
      message: `p.dlflow: written by a newer dlflow (document version ${newer}; this dlflow reads up to version ${DOCUMENT_VERSION}); update dlflow to open it`,
    });
  });
});

describe('structure', () => {
  const doc = (nodes: unknown[], edges: unknown[] = [], extra: Record<string, unknown> = {}) =>
    JSON.stringify({ format: 'dlflow', version: DOCUMENT_VERSION, nodes, edges, ...extra });

  it('names the node and field of each shape problem, all at once', () => {
    const r = parse(
      doc(
        [
          { id: 'a', type: 'stub:source:constant', params: {}, position: { x: 'left', y: 0 } },
          { id: 'b', params: [], position: { x: 0, y: 0 } },
          { type: 'stub:math:add' },
          { id: '', type: 'stub:math:add' },
        ],
        [{ id: 'e1', source: 'a', sourceHandle: 'out', target: 'b' }],
        { viewport: { x: 0, y: 0, zoom: 0 } },
      ),
    );
    expect(r.document).toBeUndefined();
    expect(r.diagnostics.map((d) => [d.nodeId ?? d.edgeId, d.message])).toEqual([
      ['a', 'node "a": "position.x" must be a number, got "left"'],
      ['b', 'node "b": "type" is missing'],
      ['b', 'node "b": "params" must be an object, got an array'],
      [undefined, 'node #3: "id" is missing'],
      [undefined, 'node #4: "id" must not be empty'],
      ['e1', 'edge "e1": "targetHandle" is missing'],
      [undefined, 'document: "viewport.zoom" is 0, must be more than 0'],
    ]);
    expect(r.diagnostics.every((d) => d.code === 'invalid-document' && d.severity === 'error')).toBe(true);
  });

  it('warns about unknown fields and drops them, keeping the document', () => {
    const r = parse(
      doc([{ id: 'a', type: 'stub:source:constant', params: {}, position: { x: 0, y: 0 }, postion: { x: 1 } }], [], { author: 'me' }),
    );
    expect(r.diagnostics).toEqual([
      {
        severity: 'warning',
        code: 'invalid-document',
        nodeId: 'a',
        edgeId: undefined,
        message: 'node "a": unknown field "postion" (ignored, and dropped when saved)',
      },
      {
        severity: 'warning',
        code: 'invalid-document',
        nodeId: undefined,
        edgeId: undefined,
        message: 'document: unknown field "author" (ignored, and dropped when saved)',
      },
    ]);
    expect(r.document?.nodes[0]).toEqual({ id: 'a', type: 'stub:source:constant', params: {}, position: { x: 0, y: 0 } });
    expect(r.document).not.toHaveProperty('author');
  });

  it('fills params, position, edges and edge ids left out of hand-written files', () => {
    const text = JSON.stringify({
      format: 'dlflow',
      version: DOCUMENT_VERSION,
      nodes: [
        { id: 'c', type: 'stub:source:constant' },
        { id: 's', type: 'stub:math:add' },
      ],
    });
    expect(parse(text).document?.edges).toEqual([]);
    const r = parse(
      doc([{ id: 'c', type: 'stub:source:constant' }, { id: 's', type: 'stub:math:add' }], [{ source: 'c', sourceHandle: 'out', target: 's', targetHandle: 'a' }]),
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.document?.nodes[0]).toEqual({ id: 'c', type: 'stub:source:constant', params: {}, position: { x: 0, y: 0 } });
    expect(r.document?.edges[0].id).toBe('c.out->s.a');
  });

  it('returns the document along with validation problems, so an editor can show them', () => {
    const r = parse(doc([{ id: 's', type: 'stub:math:add' }]));
    expect(r.document?.nodes.map((n) => n.id)).toEqual(['s']);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['missing-input']);
    expect(parseDocumentText(doc([{ id: 's', type: 'stub:math:add' }]), { registry, validate: false }).diagnostics).toEqual([]);
  });

  it('names the file "document" when no path is given', () => {
    expect(parseDocumentText('{', { registry }).diagnostics[0].message).toBe(
      'document: malformed JSON at line 1, column 2: expected a double-quoted property name, found end of file',
    );
  });
});

describe('findJsonError on numbers', () => {
  it('points at the first character that breaks a number', () => {
    expect(findJsonError('[1.]')).toMatchObject({ line: 1, column: 3, message: "expected ',' or ']' after an array element, found '.'" });
    expect(findJsonError('[-]')).toMatchObject({ column: 2, message: "expected a value, found '-'" });
    expect(findJsonError('[01]')).toMatchObject({ column: 3 });
    expect(findJsonError(`[${'9'.repeat(1000)}x]`)).toMatchObject({ column: 1002 });
  });
});
