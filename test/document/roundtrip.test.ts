import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseDocumentText,
  readDocumentFile,
  rebasePaths,
  resolveDocPath,
  serializeDocument,
  writeDocumentFile,
} from '../../main/engine/document/index.ts';
import { UserError } from '../../main/engine/errors.ts';
import { DOCUMENT_VERSION } from '../../main/protocol/index.ts';
import { edge, makeDoc, node, validPipeline } from './build.ts';
import { stubRegistry } from './stub-nodes.ts';

const registry = stubRegistry();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dlflow-doc-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('serializeDocument', () => {
  it('writes a fixed key order, sorted params, 2-space indent and a trailing newline', () => {
    const doc = makeDoc(
      [
        {
          params: { zeta: 1, alpha: { b: [{ y: 1, x: 2 }], a: 'é' } },
          position: { y: 2, x: 1 },
          label: 'L',
          type: 't:a:b',
          id: 'n',
        },
      ],
      [{ targetHandle: 'i', target: 'n', sourceHandle: 'o', source: 'n', id: 'e' }],
    );
    doc.viewport = { zoom: 1.5, y: -3, x: 4 };
    expect(serializeDocument(doc)).toBe(
      `{
  "format": "dlflow",
  "version": ${DOCUMENT_VERSION},
  "nodes": [
    {
      "id": "n",
      "type": "t:a:b",
      "label": "L",
      "position": {
        "x": 1,
        "y": 2
      },
      "params": {
        "alpha": {
          "a": "é",
          "b": [
            {
              "x": 2,
              "y": 1
            }
          ]
        },
        "zeta": 1
      }
    }
  ],
  "edges": [
    {
      "id": "e",
      "source": "n",
      "sourceHandle": "o",
      "target": "n",
      "targetHandle": "i"
    }
  ],
  "viewport": {
    "x": 4,
    "y": -3,
    "zoom": 1.5
  }
}
`,
    );
  });

  it('is byte-stable through parse and serialise', () => {
    const text = serializeDocument(validPipeline());
    const once = parseDocumentText(text, { registry });
    expect(once.diagnostics).toEqual([]);
    expect(once.document).toEqual(validPipeline());
    expect(serializeDocument(once.document!)).toBe(text);
  });

  it('drops fields outside the format and refuses a structurally broken document', () => {
    const doc = validPipeline();
    (doc.nodes[0] as unknown as Record<string, unknown>).selected = true;
    expect(serializeDocument(doc)).toBe(serializeDocument(validPipeline()));
    const broken = validPipeline();
    broken.nodes[1].position.x = Number.NaN;
    expect(() => serializeDocument(broken)).toThrow('cannot serialise an invalid document: node "c2": "position.x" must be a number, got NaN');
  });
});

describe('unknown node types', () => {
  it('are kept as placeholders and written back unchanged, edges included', async () => {
    const original = serializeDocument(
      makeDoc(
        [
          node('c', 'stub:source:constant', { value: 3 }),
          node('f', 'stub:text:format'),
          node('future', 'vendor:magic:super-resolve', { scale: 4, model: { name: 'x', layers: [1, 2, 3] }, path: '/abs/elsewhere' }, {
            label: 'From a plugin',
            typeVersion: 9,
            position: { x: -5.5, y: 1e3 },
          }),
        ],
        [edge('c.out', 'future.image', 'e1'), edge('future.result', 'f.value', 'e2'), edge('future.result', 'f.nope', 'e3')],
      ),
    );
    const file = join(dir, 'placeholder.dlflow');
    await writeFile(file, original);
    const read = await readDocumentFile(file, registry);
    expect(read.diagnostics.map((d) => `${d.code} ${d.nodeId}`)).toEqual(['unknown-node-type future', 'unknown-port f']);
    expect(read.document?.nodes[2].type).toBe('vendor:magic:super-resolve');
    await writeDocumentFile(file, read.document!, registry, { fromDir: join(dir, 'elsewhere') });
    expect(await readFile(file, 'utf8')).toBe(original);
  });
});

describe('readDocumentFile / writeDocumentFile', () => {
  it('round-trips read → write → read to an equal document and identical bytes', async () => {
    const file = join(dir, 'rt.dlflow');
    await writeDocumentFile(file, validPipeline(), registry);
    const first = await readFile(file, 'utf8');
    const a = await readDocumentFile(file, registry);
    expect(a.diagnostics).toEqual([]);
    await writeDocumentFile(file, a.document!, registry);
    expect(await readFile(file, 'utf8')).toBe(first);
    const b = await readDocumentFile(file, registry);
    expect(b.document).toEqual(a.document);
  });

  it('a missing or unreadable file is a UserError naming the path', async () => {
    const missing = join(dir, 'nope.dlflow');
    await expect(readDocumentFile(missing, registry)).rejects.toThrow(new UserError(`file not found: ${missing}`));
    await expect(readDocumentFile(dir, registry)).rejects.toThrow(new UserError(`cannot read ${dir}: is a folder, not a .dlflow file`));
    await expect(readDocumentFile(dir, registry)).rejects.toBeInstanceOf(UserError);
  });

  it('malformed content comes back as diagnostics naming the file', async () => {
    const file = join(dir, 'bad.dlflow');
    await writeFile(file, '{\n  "format": "dlflow",\n  "version": 1,\n  "nodes": [}\n');
    const r = await readDocumentFile(file, registry);
    expect(r.diagnostics).toEqual([
      {
        severity: 'error',
        code: 'malformed-json',
        line: 4,
        column: 13,
        message: `${file}: malformed JSON at line 4, column 13: expected a value, found '}'`,
      },
    ]);
  });

  it('rebases relative path params when saved into another folder', async () => {
    await mkdir(join(dir, 'project', 'sub'), { recursive: true });
    const doc = validPipeline();
    doc.nodes[5].params = { path: 'out/result.txt', notesFolder: join(dir, 'project', 'notes') };
    const target = join(dir, 'project', 'sub', 'moved.dlflow');
    await writeDocumentFile(target, doc, registry, { fromDir: join(dir, 'project') });
    const saved = await readDocumentFile(target, registry);
    // Same files as before: "../out/result.txt" from sub/, and an absolute path inside the project tree stays absolute
    // because it is outside sub/ (only paths inside the document's folder tree become relative).
    expect(saved.document?.nodes[5].params).toEqual({ path: '../out/result.txt', notesFolder: join(dir, 'project', 'notes') });
    expect(resolveDocPath(join(dir, 'project', 'sub'), '../out/result.txt')).toBe(join(dir, 'project', 'out', 'result.txt'));
  });
});

describe('rebasePaths', () => {
  const save = (params: Record<string, unknown>) =>
    makeDoc([node('c', 'stub:source:constant'), node('f', 'stub:text:format'), node('s', 'stub:io:save-text', params)], [
      edge('c.out', 'f.value'),
      edge('f.text', 's.text'),
    ]);
  const paramsAfter = (params: Record<string, unknown>, from: string, to: string) =>
    rebasePaths(save(params), registry, from, to).nodes[2].params;

  it('re-relativises relative paths so they point at the same file', () => {
    expect(paramsAfter({ path: 'data/out.txt', notesFolder: 'notes' }, '/w/a', '/w/b/c')).toEqual({
      path: '../../a/data/out.txt',
      notesFolder: '../../a/notes',
    });
    expect(paramsAfter({ path: '../shared/out.txt' }, '/w/a/b', '/w/a')).toEqual({ path: 'shared/out.txt' });
  });

  it('makes absolute paths inside the target folder tree relative, leaves others absolute', () => {
    expect(paramsAfter({ path: '/w/proj/data/x.txt', notesFolder: '/w/proj' }, '/w/proj', '/w/proj')).toEqual({
      path: 'data/x.txt',
      notesFolder: '.',
    });
    expect(paramsAfter({ path: '/elsewhere/x.txt' }, '/w/proj', '/w/other')).toEqual({ path: '/elsewhere/x.txt' });
  });

  it('leaves relative paths alone when the folder does not change, and empty paths always', () => {
    expect(paramsAfter({ path: './data/../x.txt', notesFolder: '' }, '/w/p', '/w/p/')).toEqual({ path: './data/../x.txt', notesFolder: '' });
    expect(paramsAfter({ notesFolder: '' }, '/w/p', '/q')).toEqual({ notesFolder: '' });
  });

  it('touches only path params of known nodes and returns a new document', () => {
    const doc = makeDoc([
      node('f', 'stub:text:format', { template: 'data/x.txt' }),
      node('u', 'vendor:x:unknown', { path: 'data/x.txt' }),
      node('s', 'stub:io:save-text', { path: 'a.txt' }),
    ]);
    const moved = rebasePaths(doc, registry, '/w/a', '/w/b');
    expect(moved.nodes.map((n) => n.params)).toEqual([{ template: 'data/x.txt' }, { path: 'data/x.txt' }, { path: '../a/a.txt' }]);
    expect(doc.nodes[2].params).toEqual({ path: 'a.txt' });
    expect(moved.nodes[0]).toBe(doc.nodes[0]);
  });
});

describe('no stray files', () => {
  it('writing documents leaves only the documents in the folder', async () => {
    const names = await readdir(dir);
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
