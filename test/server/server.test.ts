import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { UserError } from '../../main/engine/errors.ts';
import { decodeMessage, encodeMessage, type WireMessage } from '../../main/protocol/wire.ts';
import { startServer, type RunningServer } from '../../main/server/index.ts';
import { createStubEngine, emptyDocument, fakePng, type StubEngine } from './stub-engine.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Raw HTTP GET, so the path reaches the server exactly as written (no client-side normalising). */
function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket; resolves with the socket, or with the HTTP status that refused it. */
function connect(url: string, headers: Record<string, string> = {}): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => resolve({ ws }));
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode });
      res.resume();
    });
    ws.on('error', (error) => reject(error));
  });
}

/** Collects decoded messages from a socket. */
function inbox(ws: WebSocket) {
  const messages: WireMessage[] = [];
  const binaryFrames: number[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data, isBinary) => {
    const buffer = data as Buffer;
    if (isBinary) binaryFrames.push(messages.length);
    messages.push(decodeMessage(isBinary ? buffer : buffer.toString('utf8')));
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    messages,
    binaryFrames,
    async until(predicate: (messages: WireMessage[]) => boolean, ms = 5000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!predicate(messages)) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${messages.length} messages`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

let root: string;
let rendererDir: string;
let workDir: string;
let outsideDir: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'dlflow-server-'));
  rendererDir = join(root, 'renderer');
  workDir = join(root, 'work');
  outsideDir = join(root, 'outside');
  for (const dir of [rendererDir, join(rendererDir, 'assets'), workDir, outsideDir]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><div id="root" data-testid="app-root"></div><script type="module" src="/assets/app.js"></script>');
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("app")');
  writeFileSync(join(rendererDir, 'assets', 'app.css'), 'body{}');
  writeFileSync(join(rendererDir, 'assets', 'tfjs.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
  writeFileSync(join(rendererDir, 'assets', 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(rendererDir, 'assets', 'mono.ttf'), Buffer.from([0, 1, 0, 0]));
  writeFileSync(join(root, 'secret.txt'), 'TOP SECRET');
  symlinkSync(join(root, 'secret.txt'), join(rendererDir, 'assets', 'leak.js'));
  writeFileSync(join(workDir, 'a.dlflow'), JSON.stringify(emptyDocument()));
  writeFileSync(join(outsideDir, 'b.dlflow'), JSON.stringify(emptyDocument()));
  symlinkSync(outsideDir, join(workDir, 'escape'));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

let server: RunningServer | undefined;
let engine: StubEngine;
const logs: string[] = [];

async function start(extra: Partial<Parameters<typeof startServer>[0]> = {}): Promise<RunningServer> {
  engine = createStubEngine();
  server = await startServer({ engine, rendererDir, allowedDirs: [workDir], initialFile: join(workDir, 'a.dlflow'), log: (line) => logs.push(line), ...extra });
  return server;
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});

const wsUrl = (s: RunningServer, token = s.token) => `ws://127.0.0.1:${s.port}/ws?token=${encodeURIComponent(token)}`;
const origin = (s: RunningServer) => `http://127.0.0.1:${s.port}`;

async function callOver(ws: WebSocket, box: ReturnType<typeof inbox>, id: number, method: string, args?: unknown) {
  ws.send(encodeMessage({ kind: 'request', id, method, args }));
  await box.until((messages) => messages.some((m) => m.kind === 'response' && m.id === id));
  return box.messages.find((m) => m.kind === 'response' && m.id === id) as Extract<WireMessage, { kind: 'response' }>;
}

describe('HTTP', () => {
  it('refuses every request without the token with 403', async () => {
    const s = await start();
    for (const path of ['/', '/index.html', '/assets/app.js', '/api/initial', '/ws', '/nope']) {
      const reply = await get(s.port, path);
      expect(reply.status, path).toBe(403);
      expect(reply.body.toString()).toMatch(/token/);
    }
    expect((await get(s.port, '/?token=wrong')).status).toBe(403);
    expect((await get(s.port, '/', { Cookie: `dlflow_token_${s.port}=wrong` })).status).toBe(403);
    // A cookie from a server on another port does not open this one.
    expect((await get(s.port, '/', { Cookie: `dlflow_token_${s.port + 1}=${s.token}` })).status).toBe(403);
  });

  it('serves the page with the token, sets an HttpOnly SameSite=Strict cookie, then serves assets by cookie', async () => {
    const s = await start();
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/?token=${encodeURIComponent(s.token)}&file=${encodeURIComponent(join(workDir, 'a.dlflow'))}`);
    expect(s.token.length).toBeGreaterThanOrEqual(40);
    const page = await get(s.port, `/?token=${encodeURIComponent(s.token)}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body.toString()).toContain('data-testid="app-root"');
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).toContain(`dlflow_token_${s.port}=${s.token}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("'wasm-unsafe-eval'");
    expect(csp).toMatch(/worker-src 'self' blob:/);
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toContain("'unsafe-eval'");
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${s.port}`);
    // A forged Host header cannot smuggle directives into the policy.
    const forged = await get(s.port, `/?token=${encodeURIComponent(s.token)}`, { Host: "x; script-src 'unsafe-eval'" });
    expect(String(forged.headers['content-security-policy'])).not.toContain("x; script-src 'unsafe-eval'");
    expect(String(forged.headers['content-security-policy'])).toContain(`connect-src 'self' ws://127.0.0.1:${s.port}`);

    const jar = { Cookie: `dlflow_token_${s.port}=${s.token}` };
    const types: Record<string, string> = {
      '/assets/app.js': 'text/javascript; charset=utf-8',
      '/assets/app.css': 'text/css; charset=utf-8',
      '/assets/tfjs.wasm': 'application/wasm',
      '/assets/icon.svg': 'image/svg+xml',
      '/assets/mono.ttf': 'font/ttf',
    };
    for (const [path, type] of Object.entries(types)) {
      const reply = await get(s.port, path, jar);
      expect(reply.status, path).toBe(200);
      expect(reply.headers['content-type'], path).toBe(type);
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
    }
    expect((await get(s.port, '/assets/app.js', jar)).body.toString()).toBe('console.log("app")');
  });

  it('falls back to index.html for client routes but 404s missing assets', async () => {
    const s = await start();
    const jar = { Cookie: `dlflow_token_${s.port}=${s.token}` };
    const route = await get(s.port, '/editor/some/route', jar);
    expect(route.status).toBe(200);
    expect(route.body.toString()).toContain('app-root');
    // Relative asset URLs of the build must still resolve from the root.
    expect(route.body.toString()).toContain('<base href="/">');
    expect((await get(s.port, '/', jar)).body.toString()).not.toContain('<base');
    expect((await get(s.port, '/assets/missing.js', jar)).status).toBe(404);
    expect((await get(s.port, '/assets/app.js', jar, 'POST')).status).toBe(405);
  });

  it('never serves a file outside the renderer folder', async () => {
    const s = await start();
    const jar = { Cookie: `dlflow_token_${s.port}=${s.token}` };
    for (const path of ['/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e/%2e%2e/secret.txt', '/../secret.txt', '/assets/..\\..\\secret.txt', '/assets/leak.js', '/a%00.js']) {
      const reply = await get(s.port, path, jar);
      expect(reply.body.toString(), path).not.toContain('TOP SECRET');
      expect([403, 404, 200], path).toContain(reply.status);
      if (reply.status === 200) expect(reply.body.toString(), path).toContain('app-root');
    }
    expect((await get(s.port, '/..%2fsecret.txt', jar)).status).toBe(403);
    expect((await get(s.port, '/assets/leak.js', jar)).status).toBe(403);
  });

  it('tells the UI its initial file at /api/initial (token required)', async () => {
    const s = await start();
    expect((await get(s.port, '/api/initial')).status).toBe(403);
    const reply = await get(s.port, '/api/initial', { Cookie: `dlflow_token_${s.port}=${s.token}` });
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.body.toString());
    expect(body.path).toBe(join(workDir, 'a.dlflow'));
    expect(body.allowedDirs).toContain(workDir);
  });
});

describe('WebSocket', () => {
  it('refuses an upgrade without the token, with a wrong one, or from a foreign Origin', async () => {
    const s = await start();
    expect((await connect(`ws://127.0.0.1:${s.port}/ws`)).status).toBe(403);
    expect((await connect(wsUrl(s, 'nope'))).status).toBe(403);
    expect((await connect(wsUrl(s), { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await connect(wsUrl(s), { Origin: `http://127.0.0.1:${s.port + 1}` })).status).toBe(403);
    expect((await connect(`ws://127.0.0.1:${s.port}/other?token=${s.token}`)).status).toBe(404);
    expect(s.clientCount()).toBe(0);
  });

  it('accepts the token from the query or the cookie, from its own Origin', async () => {
    const s = await start();
    const a = await connect(wsUrl(s), { Origin: origin(s) });
    const b = await connect(`ws://127.0.0.1:${s.port}/ws`, { Origin: `http://localhost:${s.port}`, Cookie: `dlflow_token_${s.port}=${s.token}` });
    expect(a.ws).toBeDefined();
    expect(b.ws).toBeDefined();
    a.ws!.close();
    b.ws!.close();
  });

  it('round-trips calls and returns errors as {error:{message, code}}', async () => {
    const s = await start();
    const { ws } = await connect(wsUrl(s), { Origin: origin(s) });
    const box = inbox(ws!);
    const list = await callOver(ws!, box, 1, 'listNodes');
    expect('result' in list && (list.result as { nodes: unknown[] }).nodes).toHaveLength(2);
    const validate = await callOver(ws!, box, 2, 'validate', { document: { ...emptyDocument(), nodes: [{ id: 'x', type: 'nope', params: {}, position: { x: 0, y: 0 } }] } });
    expect('result' in validate && validate.result).toEqual([expect.objectContaining({ code: 'unknown-node-type', nodeId: 'x' })]);
    const unknown = await callOver(ws!, box, 3, 'constructor');
    expect('error' in unknown && unknown.error).toEqual({ message: 'unknown method "constructor"', code: 'unknown-method' });
    engine.info = async () => {
      throw new UserError('no backend');
    };
    const failed = await callOver(ws!, box, 4, 'info');
    expect('error' in failed && failed.error).toEqual({ message: 'no backend', code: 'user-error' });
    // A malformed frame is dropped without killing the connection.
    ws!.send('{not json');
    const after = await callOver(ws!, box, 5, 'cancel', { runId: 'r' });
    expect('result' in after && after.result).toEqual({ cancelled: true });
    expect(logs.some((line) => line.includes('malformed'))).toBe(true);
    ws!.close();
  });

  it('forwards engine events to every client, previews as binary frames with identical bytes', async () => {
    const s = await start();
    const one = await connect(wsUrl(s), { Origin: origin(s) });
    const two = await connect(wsUrl(s));
    const boxOne = inbox(one.ws!);
    const boxTwo = inbox(two.ws!);
    const png = fakePng(100_000, 5);
    engine.emit({ type: 'node-started', runId: 'r', nodeId: 'n', time: 1 });
    engine.emit({ type: 'node-preview', runId: 'r', nodeId: 'n', preview: { kind: 'image-grid', columns: 1, images: [{ png, width: 10, height: 10 }] } });
    for (const box of [boxOne, boxTwo]) {
      await box.until((messages) => messages.length === 2);
      expect(box.binaryFrames).toEqual([1]);
      const preview = box.messages[1];
      if (preview.kind !== 'event' || preview.event.type !== 'node-preview' || preview.event.preview.kind !== 'image-grid') throw new Error('expected a preview');
      expect(Buffer.from(preview.event.preview.images[0].png).equals(Buffer.from(png))).toBe(true);
    }
    one.ws!.close();
    two.ws!.close();
  });

  it('streams a run: events arrive before the run call resolves', async () => {
    const s = await start();
    const { ws } = await connect(wsUrl(s));
    const box = inbox(ws!);
    const document = { ...emptyDocument(), nodes: [{ id: 'a', type: 'stub:train', params: {}, position: { x: 0, y: 0 } }] };
    const reply = await callOver(ws!, box, 9, 'run', { runId: 'r9', document });
    expect('result' in reply && reply.result).toMatchObject({ runId: 'r9', status: 'done' });
    const kinds = box.messages.map((m) => (m.kind === 'event' ? m.event.type : m.kind));
    expect(kinds).toEqual(['run-started', 'node-started', 'node-progress', 'node-preview', 'node-finished', 'run-finished', 'response']);
    ws!.close();
  });

  it('under backpressure keeps every non-progress event and the latest preview per node', async () => {
    const s = await start({ highWaterBytes: 64 * 1024 });
    const { ws } = await connect(wsUrl(s));
    const box = inbox(ws!);
    const count = 80;
    // Emitted synchronously: the client cannot read meanwhile, so the socket buffer fills.
    for (let i = 0; i < count; i++) {
      engine.emit({ type: 'node-progress', runId: 'r', nodeId: 'n', fraction: i / count });
      engine.emit({ type: 'node-preview', runId: 'r', nodeId: 'n', preview: { kind: 'image-grid', columns: 1, images: [{ png: fakePng(256 * 1024, i), width: 1, height: 1 }] } });
      engine.emit({ type: 'node-log', runId: 'r', nodeId: 'n', level: 'info', message: `epoch ${i}` });
    }
    engine.emit({ type: 'node-finished', runId: 'r', nodeId: 'n', seconds: 1 });
    await box.until((messages) => messages.some((m) => m.kind === 'event' && m.event.type === 'node-finished'), 20_000);
    const events = box.messages.flatMap((m) => (m.kind === 'event' ? [m.event] : []));
    const previews = events.filter((e) => e.type === 'node-preview');
    const logsSeen = events.filter((e) => e.type === 'node-log');
    expect(logsSeen.map((e) => e.type === 'node-log' && e.message)).toEqual(Array.from({ length: count }, (_, i) => `epoch ${i}`));
    expect(previews.length).toBeLessThan(count);
    const last = previews.at(-1);
    if (last?.type !== 'node-preview' || last.preview.kind !== 'image-grid') throw new Error('no preview');
    expect(Buffer.from(last.preview.images[0].png).equals(Buffer.from(fakePng(256 * 1024, count - 1)))).toBe(true);
    const progress = events.filter((e) => e.type === 'node-progress');
    expect(progress.at(-1)).toMatchObject({ fraction: (count - 1) / count });
    expect(events.at(-1)?.type).toBe('node-finished');
    ws!.close();
  });

  it('stops forwarding after close and unsubscribes from the engine', async () => {
    const s = await start();
    const { ws } = await connect(wsUrl(s));
    expect(engine.listenerCount()).toBe(1);
    const closed = new Promise((resolve) => ws!.on('close', resolve));
    await s.close();
    await closed;
    expect(engine.listenerCount()).toBe(0);
    server = undefined;
  });
});

describe('file access', () => {
  it('opens and saves inside allowed folders and refuses everything outside', async () => {
    const s = await start();
    const { ws } = await connect(wsUrl(s));
    const box = inbox(ws!);
    let id = 100;
    const call = (method: string, args: unknown) => callOver(ws!, box, ++id, method, args);

    const inside = await call('openDocument', { path: join(workDir, 'a.dlflow') });
    expect('result' in inside).toBe(true);
    const saved = await call('saveDocument', { path: `${workDir}/sub-not-yet/../c.dlflow`, document: emptyDocument() });
    expect('error' in saved && saved.error.code).toBe('path-not-allowed');
    const savedOk = await call('saveDocument', { path: join(workDir, 'c.dlflow'), document: emptyDocument() });
    expect('result' in savedOk).toBe(true);
    expect(JSON.parse(readFileSync(join(workDir, 'c.dlflow'), 'utf8')).format).toBe('dlflow');

    const refused: [string, unknown][] = [
      ['openDocument', { path: join(outsideDir, 'b.dlflow') }],
      ['openDocument', { path: `${workDir}/../outside/b.dlflow` }],
      ['openDocument', { path: join(workDir, 'escape', 'b.dlflow') }],
      ['openDocument', { path: '/etc/passwd' }],
      ['openDocument', { path: '' }],
      ['saveDocument', { path: join(outsideDir, 'evil.dlflow'), document: emptyDocument() }],
      ['saveDocument', { path: join(workDir, 'escape', 'evil.dlflow'), document: emptyDocument() }],
      ['parseDocument', { text: '{}', path: join(outsideDir, 'x.dlflow') }],
      ['run', { runId: 'r', document: emptyDocument(), options: { baseDir: outsideDir } }],
      [
        'run',
        {
          runId: 'r2',
          document: { ...emptyDocument(), nodes: [{ id: 'load', type: 'stub:load-folder', params: { folder: '../outside' }, position: { x: 0, y: 0 } }] },
          options: { baseDir: workDir },
        },
      ],
    ];
    for (const [method, args] of refused) {
      const reply = await call(method, args);
      expect('error' in reply, `${method} ${JSON.stringify(args)}`).toBe(true);
      if ('error' in reply) expect(reply.error.code).toBe('path-not-allowed');
    }
    const runReply = box.messages.find((m) => m.kind === 'response' && m.id === id) as Extract<WireMessage, { kind: 'response' }>;
    expect('error' in runReply && runReply.error.message).toMatch(/node "load" \(stub:load-folder\) param "folder"/);
    // None of the refused calls reached the engine.
    expect(engine.calls.filter((c) => c.method !== 'listNodes').map((c) => c.method)).toEqual(['openDocument', 'saveDocument']);
    ws!.close();
  });

  it('runs documents whose path params stay inside, passing the real baseDir', async () => {
    const s = await start();
    const { ws } = await connect(wsUrl(s));
    const box = inbox(ws!);
    const document = { ...emptyDocument(), nodes: [{ id: 'load', type: 'stub:load-folder', params: { folder: 'data' }, position: { x: 0, y: 0 } }] };
    const reply = await callOver(ws!, box, 1, 'run', { runId: 'ok', document, options: { baseDir: workDir } });
    expect('result' in reply && reply.result).toMatchObject({ status: 'done' });
    expect(engine.calls.find((c) => c.method === 'run')?.args).toMatchObject({ options: { baseDir: workDir } });
    ws!.close();
  });
});

describe('robustness', () => {
  it('survives malformed request URLs on HTTP and on the upgrade path', async () => {
    const s = await start();
    const { connect: tcp } = await import('node:net');
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const socket = tcp(s.port, '127.0.0.1', () => socket.write(text));
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', () => resolve(data));
        setTimeout(() => socket.destroy(), 2000);
      });
    const upgrade = await raw(`GET http://[bad/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
    expect(upgrade).toMatch(/^HTTP\/1\.1 (400|403)/);
    const plain = await raw(`GET http://[bad/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(plain).toMatch(/^HTTP\/1\.1 (400|403|500)/);
    // Still serving.
    expect((await get(s.port, `/?token=${encodeURIComponent(s.token)}`)).status).toBe(200);
  });
});
