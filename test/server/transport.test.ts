import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import type { EngineEvent } from '../../main/protocol/index.ts';
import type { DlflowBridge } from '../../main/protocol/wire.ts';
import { startServer, type RunningServer } from '../../main/server/index.ts';
import {
  createBridgeTransport,
  createWebSocketTransport,
  EngineCallError,
  webSocketUrlFor,
  type ConnectionState,
  type Transport,
  type WebSocketConstructor,
} from '../../renderer/transport/index.ts';
import { createStubEngine, emptyDocument, fakePng, type StubEngine } from './stub-engine.ts';

let root: string;
let engine: StubEngine;
let server: RunningServer | undefined;
let transport: Transport | undefined;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'dlflow-transport-'));
  mkdirSync(join(root, 'renderer'));
  writeFileSync(join(root, 'renderer', 'index.html'), '<!doctype html>');
  writeFileSync(join(root, 'doc.dlflow'), JSON.stringify(emptyDocument()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(async () => {
  transport?.close();
  transport = undefined;
  await server?.close();
  server = undefined;
});

async function start(port = 0, token?: string): Promise<RunningServer> {
  engine = createStubEngine();
  server = await startServer({ engine, rendererDir: join(root, 'renderer'), allowedDirs: [root], initialFile: join(root, 'doc.dlflow'), port, token, log: () => undefined });
  return server;
}

function wsTransport(s: RunningServer): Transport {
  transport = createWebSocketTransport({
    url: `ws://127.0.0.1:${s.port}/ws?token=${s.token}`,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    initialDelayMs: 20,
    maxDelayMs: 100,
    initialFileUrl: `http://127.0.0.1:${s.port}/api/initial?token=${s.token}`,
  });
  return transport;
}

function waitFor<T>(predicate: () => T | undefined, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const tick = () => {
      const value = predicate();
      if (value !== undefined && value !== false) return resolve(value);
      if (Date.now() > deadline) return reject(new Error('timed out'));
      setTimeout(tick, 10);
    };
    tick();
  });
}

describe('WebSocket transport', () => {
  it('calls methods with typed results and queues calls made before the socket opens', async () => {
    const client = wsTransport(await start());
    expect(client.connectionState()).toBe('connecting');
    const [catalog, info] = await Promise.all([client.call('listNodes'), client.call('info')]);
    expect(catalog.nodes.map((n) => n.id)).toEqual(['stub:load-folder', 'stub:train']);
    expect(info.backend.name).toBe('stub');
    expect(client.connectionState()).toBe('open');
    expect(await client.initialFile()).toBe(join(root, 'doc.dlflow'));
  });

  it('rejects with EngineCallError carrying the server message and code', async () => {
    const client = wsTransport(await start());
    const error = await client.call('openDocument', { path: '/etc/passwd' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineCallError);
    expect((error as EngineCallError).code).toBe('path-not-allowed');
    expect((error as EngineCallError).message).toMatch(/outside the folders/);
    expect((error as EngineCallError).method).toBe('openDocument');
  });

  it('fans events out to every listener, previews with identical bytes, until unsubscribed', async () => {
    const client = wsTransport(await start());
    const a: EngineEvent[] = [];
    const b: EngineEvent[] = [];
    const offA = client.onEvent((e) => a.push(e));
    client.onEvent((e) => b.push(e));
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    client.onEvent(() => {
      throw new Error('a broken listener');
    });
    const document = { ...emptyDocument(), nodes: [{ id: 'n1', type: 'stub:train', params: {}, position: { x: 0, y: 0 } }] };
    const result = await client.call('run', { runId: 'r1', document });
    expect(result.status).toBe('done');
    expect(a.map((e) => e.type)).toEqual(['run-started', 'node-started', 'node-progress', 'node-preview', 'node-finished', 'run-finished']);
    expect(b).toEqual(a);
    const preview = a[3];
    if (preview.type !== 'node-preview' || preview.preview.kind !== 'image-grid') throw new Error('expected a preview');
    expect(preview.preview.images[0].png).toBeInstanceOf(Uint8Array);
    expect(Array.from(preview.preview.images[0].png)).toEqual(Array.from(fakePng(64, 0)));
    offA();
    engine.emit({ type: 'node-started', runId: 'r2', nodeId: 'x', time: 0 });
    await waitFor(() => b.length === 7);
    expect(a).toHaveLength(6);
    expect(consoleError).toHaveBeenCalled();
    consoleError.mockRestore();
  });

  it('reconnects with backoff after the server restarts; calls in flight reject as disconnected', async () => {
    const first = await start();
    const { port, token } = first;
    const client = wsTransport(first);
    const states: ConnectionState[] = [];
    client.onConnectionChange((s) => states.push(s));
    await client.call('info');
    // A call the engine never answers, in flight when the connection drops.
    engine.cancel = () => new Promise(() => undefined);
    const inFlight = client.call('cancel', { runId: 'x' }).catch((e: unknown) => e);
    await waitFor(() => engine.calls.length >= 1 || undefined);
    await first.close();
    const error = await inFlight;
    expect((error as EngineCallError).code).toBe('disconnected');
    expect(client.connectionState()).not.toBe('open');
    await start(port, token);
    const catalog = await client.call('listNodes');
    expect(catalog.nodes).toHaveLength(2);
    expect(states).toContain('closed');
    expect(states.at(-1)).toBe('open');
  });

  it('close() stops reconnecting and rejects later calls', async () => {
    const client = wsTransport(await start());
    await client.call('info');
    client.close();
    await expect(client.call('info')).rejects.toMatchObject({ code: 'closed' });
    await waitFor(() => client.connectionState() === 'closed' || undefined);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(server!.clientCount()).toBe(0);
  });

  it('builds the /ws URL from the page location, carrying its token', () => {
    expect(webSocketUrlFor({ protocol: 'http:', host: '127.0.0.1:5000', search: '?token=a%2Bb' })).toBe('ws://127.0.0.1:5000/ws?token=a%2Bb');
    expect(webSocketUrlFor({ protocol: 'https:', host: 'h', search: '' })).toBe('wss://h/ws');
  });
});

describe('Electron bridge transport', () => {
  it('forwards calls and events and turns rejections into EngineCallError', async () => {
    const listeners: ((e: EngineEvent) => void)[] = [];
    const bridge: DlflowBridge = {
      call: async (method, args) => {
        if (method === 'info') return { ok: false, error: { message: 'boom', code: 'user-error' } };
        if (method === 'validate') throw new Error('ipc broke');
        return { ok: true, result: { method, args } };
      },
      onEvent: (listener) => {
        listeners.push(listener);
        return () => listeners.splice(listeners.indexOf(listener), 1);
      },
      pickPath: async (options) => `/picked/${options.mode}`,
    };
    const client = createBridgeTransport(bridge, '?file=%2Fhome%2Fa.dlflow');
    expect(client.kind).toBe('electron');
    expect(await client.call('cancel', { runId: 'r' })).toEqual({ method: 'cancel', args: { runId: 'r' } });
    await expect(client.call('info')).rejects.toMatchObject({ name: 'EngineCallError', message: 'boom', code: 'user-error' });
    await expect(client.call('validate', { document: emptyDocument() })).rejects.toMatchObject({ message: 'ipc broke', code: 'ipc' });
    const seen: EngineEvent[] = [];
    const off = client.onEvent((e) => seen.push(e));
    listeners[0]({ type: 'node-started', runId: 'r', nodeId: 'n', time: 0 });
    off();
    expect(listeners).toHaveLength(0);
    expect(seen).toHaveLength(1);
    expect(await client.initialFile()).toBe('/home/a.dlflow');
    expect(await client.pickPath({ mode: 'folder' })).toBe('/picked/folder');
  });
});
