import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createEngine, type Engine } from '../../main/engine/index.ts';
import { NodeError } from '../../main/engine/errors.ts';
import { defineNode, definePortType } from '../../main/engine/node-api.ts';
import type { DlflowDocument, EngineEvent } from '../../main/protocol/index.ts';
import { startServer, withCodeTrust, type RunningServer } from '../../main/server/index.ts';
import { createWebSocketTransport, type Transport, type WebSocketConstructor } from '../../renderer/transport/index.ts';

const NOT_ALLOWED = 'running code from the pipeline file is not allowed for this run';

const textPort = definePortType({ id: 'trust-text', label: 'Text', color: '#888888' });
/** Stands in for model-from-code: refuses without allowCode, else "runs" the snippet. */
const codeNode = defineNode({
  id: 'trust:code',
  name: 'Code',
  category: 'test',
  description: 'Runs a snippet.',
  inputs: {},
  params: { code: { kind: 'code', default: 'return 1', language: 'typescript' }, note: { kind: 'string', default: '' } },
  outputs: { out: { type: 'trust-text' } },
  run: async (_inputs, params, ctx) => {
    if (!ctx.allowCode) throw new NodeError(NOT_ALLOWED, { param: 'code' });
    return { out: `ran ${params.code.length} chars` };
  },
});
const plainNode = defineNode({
  id: 'trust:plain',
  name: 'Plain',
  category: 'test',
  description: 'No code.',
  inputs: {},
  params: { value: { kind: 'string', default: 'x' } },
  outputs: { out: { type: 'trust-text' } },
  run: async (_inputs, params) => ({ out: params.value }),
});

function doc(code: string, note = ''): DlflowDocument {
  return {
    format: 'dlflow',
    version: 1,
    nodes: [
      { id: 'c', type: 'trust:code', position: { x: 0, y: 0 }, params: { code, note } },
      { id: 'p', type: 'trust:plain', position: { x: 0, y: 100 }, params: { value: 'y' } },
    ],
    edges: [],
  } as unknown as DlflowDocument;
}

let root: string;
let engine: Engine;
const events: EngineEvent[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'dlflow-trust-'));
  mkdirSync(join(root, 'renderer'));
  writeFileSync(join(root, 'renderer', 'index.html'), '<!doctype html>');
  engine = await createEngine({ nodes: [codeNode, plainNode], portTypes: [textPort], cacheDir: join(root, 'cache'), backend: 'none', sink: (e) => events.push(e) });
});
afterAll(async () => {
  await engine.dispose();
  rmSync(root, { recursive: true, force: true });
});

let runs = 0;
const runId = () => `trust-run-${++runs}`;
/** The code node's failure message in a run, if it failed. */
const codeNodeError = (id: string): string | undefined => {
  const failed = events.find((e) => e.type === 'node-failed' && e.runId === id && e.nodeId === 'c') as { error?: { message?: string } } | undefined;
  return failed ? (failed.error?.message ?? JSON.stringify(failed)) : undefined;
};

describe('withCodeTrust', () => {
  it('reports no hash for a document without code nodes, and a stable hash otherwise', async () => {
    const api = withCodeTrust(engine, { storeFile: join(root, 'a', 'trust.json') });
    const noCode = { ...doc('x'), nodes: [doc('x').nodes[1]!] };
    expect(await api.codeTrust!({ document: noCode })).toEqual({ trusted: true });
    const first = await api.codeTrust!({ document: doc('return 1') });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.trusted).toBe(false);
    expect(first.codeNodes).toEqual(['c']);
    // Other params and positions do not change the hash.
    const moved = doc('return 1', 'a note');
    moved.nodes[0]!.position = { x: 500, y: 500 };
    expect((await api.codeTrust!({ document: moved })).hash).toBe(first.hash);
  });

  it('untrusted → the code node refuses even when the client claims allowCode; trusted → runs; a changed snippet → untrusted again', async () => {
    const storeFile = join(root, 'b', 'trust.json');
    const api = withCodeTrust(engine, { storeFile });
    const document = doc('return 2');

    const id1 = runId();
    const r1 = await api.run({ document, runId: id1, options: { allowCode: true, noCache: true } });
    expect(r1.status).toBe('failed');
    expect(codeNodeError(id1)).toContain(NOT_ALLOWED);

    const { hash } = await api.codeTrust!({ document });
    expect(await api.trustCode!({ hash: hash!, path: '/somewhere/file.dlflow' })).toEqual({ hash, trusted: true });
    expect(JSON.parse(readFileSync(storeFile, 'utf8')).trusted[hash!].path).toBe('/somewhere/file.dlflow');
    expect((await api.codeTrust!({ document })).trusted).toBe(true);

    const id2 = runId();
    const r2 = await api.run({ document, runId: id2, options: { noCache: true } });
    expect(r2.status).toBe('done');
    expect(codeNodeError(id2)).toBeUndefined();

    // Trust survives a restart (a new wrapper reads the same file).
    const again = withCodeTrust(engine, { storeFile });
    expect((await again.codeTrust!({ document })).trusted).toBe(true);

    const changed = doc('return 2 // and something else');
    expect((await api.codeTrust!({ document: changed })).trusted).toBe(false);
    const id3 = runId();
    expect((await api.run({ document: changed, runId: id3, options: { noCache: true } })).status).toBe('failed');
    expect(codeNodeError(id3)).toContain(NOT_ALLOWED);
  });

  it('refuses a malformed hash and a request without a document, clearly', async () => {
    const api = withCodeTrust(engine, { storeFile: join(root, 'c', 'trust.json') });
    await expect(api.trustCode!({ hash: 'nope' })).rejects.toThrow(/64 hex digits/);
    await expect(api.codeTrust!({} as never)).rejects.toThrow(/codeTrust: expected a document/);
  });
});

describe('with the real node library', () => {
  it('asks about model-from-code snippets and not about pipelines without code', async () => {
    const { allNodes, allPortTypes } = await import('../../nodes/index.ts');
    const real = await createEngine({ nodes: allNodes, portTypes: allPortTypes, cacheDir: join(root, 'cache-real'), backend: 'none' });
    try {
      const api = withCodeTrust(real, { storeFile: join(root, 'e', 'trust.json') });
      const sample = JSON.parse(readFileSync(join(import.meta.dirname, '../../samples/hello.dlflow'), 'utf8')) as DlflowDocument;
      expect(await api.codeTrust!({ document: sample })).toEqual({ trusted: true });
      const withCode = {
        ...sample,
        nodes: [...sample.nodes, { id: 'net', type: 'dlflow:model:model-from-code', position: { x: 0, y: 0 }, params: { code: 'return tf.sequential();' } }],
      };
      const trust = await api.codeTrust!({ document: withCode });
      expect(trust).toMatchObject({ trusted: false, codeNodes: ['net'] });
      expect(trust.hash).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await real.dispose();
    }
  });
});

describe('code trust through the server', () => {
  let server: RunningServer | undefined;
  let transport: Transport | undefined;
  afterEach(async () => {
    transport?.close();
    await server?.close();
  });

  it('decides allowCode from its trust store, not from the client', async () => {
    server = await startServer({
      engine,
      rendererDir: join(root, 'renderer'),
      allowedDirs: [root],
      trustStoreFile: join(root, 'd', 'trust.json'),
      log: () => undefined,
    });
    transport = createWebSocketTransport({
      url: `ws://127.0.0.1:${server.port}/ws?token=${server.token}`,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    const document = doc('return 3');
    const id1 = runId();
    expect((await transport.call('run', { document, runId: id1, options: { allowCode: true, noCache: true } })).status).toBe('failed');
    expect(codeNodeError(id1)).toContain(NOT_ALLOWED);

    const trust = await transport.call('codeTrust', { document });
    expect(trust.trusted).toBe(false);
    await transport.call('trustCode', { hash: trust.hash! });
    expect((await transport.call('codeTrust', { document })).trusted).toBe(true);
    const id2 = runId();
    expect((await transport.call('run', { document, runId: id2, options: { noCache: true } })).status).toBe('done');
  });
});
