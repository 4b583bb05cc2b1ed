// server: may import main/protocol, main/engine and the node library (code trust, the node list) — never electron, the renderer, app or preload.
/**
 * Browser mode: serves the built renderer over HTTP and the EngineApi over a WebSocket at `/ws`,
 * behind a random per-start token, with file access confined to allowed folders.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { realpath } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { UserError } from '../engine/errors.ts';
import type { EngineApi, EngineEvent } from '../protocol/index.ts';
import { answerRequest, decodeMessage, encodeMessage, type WireFrame, type WireMessage } from '../protocol/wire.ts';
import { checkToken, displayHost, newToken, originAllowed, tokenCookie } from './auth.ts';
import { Outbox } from './outbox.ts';
import { AllowedDirs, guardEngine } from './paths.ts';
import { contentSecurityPolicy, resolveStatic, sendFile } from './static.ts';
import { withRunStatus } from './runs.ts';
import { withCodeTrust } from './trust.ts';

export { AllowedDirs, guardEngine, PathNotAllowedError, resolveReal } from './paths.ts';
export { coalesceKey, Outbox } from './outbox.ts';
export { defaultTrustStoreFile, withCodeTrust } from './trust.ts';
export { withRunStatus } from './runs.ts';

export interface ServerOptions {
  engine: EngineApi;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Default: random per start. */
  token?: string;
  /** Folders open/save/run may touch; the initial file's folder is added. */
  allowedDirs: string[];
  /** Document the UI opens first (GET /api/initial). */
  initialFile?: string;
  /** A client's socket buffer above which its progress/previews coalesce. Default 1 MiB. */
  highWaterBytes?: number;
  /** Where unexpected errors are reported. Default console.error. */
  log?: (line: string) => void;
  /** Trust store for code nodes. Default ~/.config/dlflow/trusted-code.json. */
  trustStoreFile?: string;
}

export interface RunningServer {
  /** Page URL including `?token=` (and `&file=` when there is an initial file). */
  url: string;
  port: number;
  host: string;
  token: string;
  /** Real paths of the folders file access is confined to. */
  allowedDirs(): string[];
  /** Allow one more folder (for the host program, never for clients). */
  allowDir(dir: string): Promise<void>;
  /** Connected WebSocket clients. */
  clientCount(): number;
  close(): Promise<void>;
}

const DEFAULT_HIGH_WATER = 1 << 20;
const PUMP_INTERVAL_MS = 20;
/** A client this far behind (messages that cannot coalesce) is dropped; it reconnects and re-syncs. */
const MAX_QUEUED = 10_000;
const HEARTBEAT_MS = 30_000;

/** One connected socket with its own send queue. */
class Client {
  readonly outbox = new Outbox();
  private timer: NodeJS.Timeout | undefined;
  /** Answered the last heartbeat ping. */
  alive = true;

  constructor(
    readonly socket: WebSocket,
    private readonly highWater: number,
  ) {}

  deliver(message: WireMessage, frame: WireFrame): void {
    this.outbox.push(message, frame);
    if (this.outbox.size > MAX_QUEUED) {
      this.dispose();
      this.socket.terminate();
      return;
    }
    this.pump();
  }

  private pump(): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.outbox.flush(
      (frame) => this.socket.send(frame),
      () => this.socket.readyState === WebSocket.OPEN && this.socket.bufferedAmount < this.highWater,
    );
    // ws has no drain event of its own; poll until the buffer empties enough to continue.
    if (this.outbox.size > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, PUMP_INTERVAL_MS);
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.outbox.clear();
  }
}

function urlOf(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://localhost');
}

function refuseUpgrade(socket: Duplex, status: string, reason: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
}

const FORBIDDEN_TEXT =
  'Forbidden: this dlflow server needs its access token. Open the full URL that `dlflow serve` printed (it ends in ?token=...).\n';

/**
 * Starts the browser-mode server. Resolves once it listens; `url` carries the token. Every HTTP
 * request and WebSocket upgrade must present the token (query or cookie) or gets 403.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? newToken();
  const log = options.log ?? ((line: string) => console.error(line));
  const highWater = options.highWaterBytes ?? DEFAULT_HIGH_WATER;
  const rendererRoot = await realpath(options.rendererDir).catch(() => {
    throw new UserError(`renderer folder ${options.rendererDir} does not exist; build it first with \`npx electron-vite build\``);
  });
  const initialFile = options.initialFile === undefined ? undefined : resolve(options.initialFile);
  const allowed = await AllowedDirs.create([...options.allowedDirs, ...(initialFile ? [dirname(initialFile)] : [])]);
  // Paths are checked first; code trust decides `allowCode` on every run, whatever the client sent;
  // runStatus answers clients that lost a run's reply with the connection.
  const engine = withRunStatus(withCodeTrust(guardEngine(options.engine, allowed), { storeFile: options.trustStoreFile }));
  const clients = new Set<Client>();
  let port = 0;

  // Only a plain host[:port] goes into the CSP; anything odd falls back to the address we serve on.
  const cspHost = (hostHeader: string | undefined): string =>
    hostHeader && /^[\w.-]+(:\d+)?$|^\[[\da-fA-F:.]+\](:\d+)?$/.test(hostHeader) ? hostHeader : `${displayHost(host)}:${port}`;

  const securityHeaders = (req: IncomingMessage): Record<string, string> => ({
    'Content-Security-Policy': contentSecurityPolicy(`ws://${cspHost(req.headers.host)}`),
    'X-Content-Type-Options': 'nosniff',
    // The page URL carries the token: never leak it through Referer.
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });

  const sendText = (req: IncomingMessage, res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...securityHeaders(req), ...extra, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(text);
  };

  const handleHttp = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = urlOf(req);
    const auth = checkToken(req, url, token, port);
    if (!auth.ok) return sendText(req, res, 403, FORBIDDEN_TEXT);
    const headers: Record<string, string> = securityHeaders(req);
    if (auth.fromQuery) headers['Set-Cookie'] = tokenCookie(token, port);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(req, res, 405, `method ${req.method} not allowed\n`, { Allow: 'GET, HEAD' });
    const head = req.method === 'HEAD';

    if (url.pathname === '/ws') return sendText(req, res, 426, 'this path only speaks WebSocket\n', { Upgrade: 'websocket' });
    if (url.pathname === '/api/initial') {
      const body = JSON.stringify({ path: initialFile ?? null, allowedDirs: allowed.list() });
      res.writeHead(200, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(head ? undefined : body);
      return;
    }
    if (url.pathname.startsWith('/api/')) return sendText(req, res, 404, `no API ${url.pathname}\n`);

    const found = await resolveStatic(rendererRoot, url.pathname);
    switch (found.kind) {
      case 'file':
        return sendFile(res, found, head, headers);
      case 'not-found':
        // Browsers ask for a favicon by themselves; an empty answer keeps the console clean.
        if (url.pathname === '/favicon.ico') {
          res.writeHead(204, headers);
          res.end();
          return;
        }
        return sendText(req, res, 404, `not found: ${url.pathname}\n`);
      case 'forbidden':
        return sendText(req, res, 403, `forbidden: ${found.reason}\n`);
      default: {
        const never: never = found;
        return never;
      }
    }
  };

  const server = createServer((req, res) => {
    handleHttp(req, res).catch((error: unknown) => {
      log(`dlflow serve: ${req.method} ${req.url}: ${(error as Error).stack ?? String(error)}`);
      if (!res.headersSent) sendText(req, res, 500, 'internal error\n');
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 * 1024 });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = urlOf(req);
    } catch {
      return refuseUpgrade(socket, '400 Bad Request', 'malformed request URL\n');
    }
    if (url.pathname !== '/ws') return refuseUpgrade(socket, '404 Not Found', 'WebSocket lives at /ws\n');
    if (!checkToken(req, url, token, port).ok) return refuseUpgrade(socket, '403 Forbidden', FORBIDDEN_TEXT);
    if (!originAllowed(req.headers.origin, req.headers.host, host, port)) {
      return refuseUpgrade(socket, '403 Forbidden', `Forbidden: origin ${req.headers.origin} is not this server's page\n`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const handleRequest = async (client: Client, message: Extract<WireMessage, { kind: 'request' }>): Promise<void> => {
    let reply: WireMessage = await answerRequest(engine, message, (error) =>
      log(`dlflow serve: ${message.method} failed: ${(error as Error)?.stack ?? String(error)}`),
    );
    let frame: WireFrame;
    try {
      frame = encodeMessage(reply);
    } catch (error) {
      reply = { kind: 'response', id: message.id, error: { message: `result of ${message.method} could not be encoded: ${(error as Error).message}` } };
      frame = encodeMessage(reply);
    }
    client.deliver(reply, frame);
  };

  wss.on('connection', (ws: WebSocket) => {
    const client = new Client(ws, highWater);
    clients.add(client);
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      let message: WireMessage;
      try {
        const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
        message = decodeMessage(isBinary ? bytes : bytes.toString('utf8'));
      } catch (error) {
        log(`dlflow serve: dropped a malformed message: ${(error as Error).message}`);
        return;
      }
      if (message.kind !== 'request') {
        log(`dlflow serve: ignored a client message of kind ${message.kind}`);
        return;
      }
      void handleRequest(client, message);
    });
    ws.on('close', () => {
      client.dispose();
      clients.delete(client);
    });
    ws.on('error', (error) => log(`dlflow serve: socket error: ${error.message}`));
  });

  // Sockets of sleeping laptops or killed tabs never close by themselves; ping them out.
  const heartbeat = setInterval(() => {
    for (const client of clients) {
      if (!client.alive) {
        client.dispose();
        client.socket.terminate();
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const unsubscribe = options.engine.onEvent((event: EngineEvent) => {
    if (clients.size === 0) return;
    const message: WireMessage = { kind: 'event', event };
    let frame: WireFrame;
    try {
      frame = encodeMessage(message);
    } catch (error) {
      log(`dlflow serve: could not encode a ${event.type} event: ${(error as Error).message}`);
      return;
    }
    // Encoded once, queued per client: a slow client coalesces without holding back the others.
    for (const client of clients) client.deliver(message, frame);
  });

  await new Promise<void>((resolveListen, rejectListen) => {
    const onError = (error: NodeJS.ErrnoException) => {
      unsubscribe();
      clearInterval(heartbeat);
      if (error.code === 'EADDRINUSE') rejectListen(new UserError(`port ${options.port} on ${host} is already in use; choose another with --port (0 picks a free one)`));
      else if (error.code === 'EADDRNOTAVAIL') rejectListen(new UserError(`cannot listen on ${host}: no such local address`));
      else rejectListen(error);
    };
    server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', onError);
      resolveListen();
    });
  });
  port = (server.address() as AddressInfo).port;
  // The UI opens `?file=` at start (as in Electron); /api/initial says the same for other clients.
  const fileQuery = initialFile ? `&file=${encodeURIComponent(initialFile)}` : '';
  const url = `http://${displayHost(host)}:${port}/?token=${encodeURIComponent(token)}${fileQuery}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    host,
    token,
    allowedDirs: () => allowed.list(),
    allowDir: (dir) => allowed.add(dir),
    clientCount: () => clients.size,
    close: () =>
      (closing ??= new Promise<void>((done) => {
        unsubscribe();
        clearInterval(heartbeat);
        for (const client of clients) {
          client.dispose();
          client.socket.terminate();
        }
        clients.clear();
        wss.close();
        server.close(() => done());
        server.closeAllConnections();
      })),
  };
}

/** Repository root, from this file's place in it (main/server/index.ts). */
function repoRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

export interface ServeCommandOptions {
  /** The engine to serve (the CLI builds it with createEngine and the node list). */
  engine: EngineApi;
  /** Document to open first. */
  file?: string;
  port?: number;
  host?: string;
  /** Open the URL in the default browser. Default false: print it only. */
  open?: boolean;
  /** More folders file access may use (besides the file's, the cwd and samples/). */
  allow?: string[];
  /** Default <repo>/out/renderer. */
  rendererDir?: string;
  /** Default <repo>/samples. */
  samplesDir?: string;
  /** Default console.log. */
  print?: (line: string) => void;
  /** Default: xdg-open / open / start. */
  openUrl?: (url: string) => void;
  /** Trust store for code nodes. Default ~/.config/dlflow/trusted-code.json. */
  trustStoreFile?: string;
}

/** Opens a URL with the platform's opener, detached; failure to open is only reported. */
export function openInBrowser(url: string, print: (line: string) => void = console.log): void {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore' });
    child.on('error', (error) => print(`could not open a browser (${command}: ${error.message}); open the URL above yourself`));
    child.unref();
  } catch (error) {
    print(`could not open a browser (${(error as Error).message}); open the URL above yourself`);
  }
}

/**
 * `dlflow serve [FILE] [--port P] [--host H] [--open] [--allow DIR]`: checks the renderer is
 * built and FILE exists, starts the server, prints the URL with its token, and opens a browser
 * only when asked. Throws UserError for anything the user can fix.
 */
export async function serveCommand(opts: ServeCommandOptions): Promise<RunningServer> {
  const print = opts.print ?? ((line: string) => console.log(line));
  const rendererDir = opts.rendererDir ?? join(repoRoot(), 'out', 'renderer');
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new UserError(`the editor is not built (${join(rendererDir, 'index.html')} is missing); run \`npx electron-vite build\` first`);
  }
  let file: string | undefined;
  if (opts.file !== undefined) {
    file = resolve(opts.file);
    if (!existsSync(file)) throw new UserError(`file not found: ${opts.file}`);
    if (!statSync(file).isFile()) throw new UserError(`not a file: ${opts.file}`);
  }
  for (const dir of opts.allow ?? []) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`--allow ${dir}: no such folder`);
  }
  const host = opts.host ?? '127.0.0.1';
  const server = await startServer({
    engine: opts.engine,
    rendererDir,
    host,
    port: opts.port ?? 0,
    initialFile: file,
    allowedDirs: [process.cwd(), opts.samplesDir ?? join(repoRoot(), 'samples'), ...(opts.allow ?? [])],
    trustStoreFile: opts.trustStoreFile,
  });
  print(`dlflow editor: ${server.url}`);
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
    print(`warning: listening on ${host}, not loopback only; anyone who can reach this machine and has the URL can run pipelines`);
  }
  print(`files: ${server.allowedDirs().join(', ')}`);
  print('press Ctrl+C to stop');
  if (opts.open) (opts.openUrl ?? ((u: string) => openInBrowser(u, print)))(server.url);
  return server;
}
