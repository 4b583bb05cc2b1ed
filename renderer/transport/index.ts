// transport: the renderer's only way to the engine; imports main/protocol types and pure helpers only.
/**
 * One typed EngineClient for both hosts: Electron (the preload's `window.dlflow` over IPC) and
 * browser mode (a WebSocket to `/ws` on the page's origin, with reconnect).
 */
import type { EngineClient, EngineEvent, EngineMethod } from '../../main/protocol/index.ts';
import { decodeMessage, encodeMessage, type BridgeReply, type DlflowBridge, type PickPathOptions, type WireMessage } from '../../main/protocol/wire.ts';

export type { PickPathOptions } from '../../main/protocol/wire.ts';

declare global {
  interface Window {
    dlflow?: DlflowBridge;
  }
}

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** An EngineClient plus what the host offers around it. */
export interface Transport extends EngineClient {
  readonly kind: 'electron' | 'websocket';
  connectionState(): ConnectionState;
  /** Called on every state change; the UI shows "reconnecting" and may re-sync after `open`. */
  onConnectionChange(listener: (state: ConnectionState) => void): () => void;
  /** The document the host was started with (`dlflow serve FILE`, or the app's argument), if any. */
  initialFile(): Promise<string | null>;
  /** Whether pickPath shows a native dialog (desktop); in the browser the UI offers a text field. */
  readonly canPickPaths: boolean;
  /** Native open/save/folder dialog; resolves null when cancelled or unavailable. */
  pickPath(options: PickPathOptions): Promise<string | null>;
  /** Stops reconnecting and closes the connection; pending calls reject. */
  close(): void;
}

/** A failed engine call: the server's message, and its code where it sent one. */
export class EngineCallError extends Error {
  override name = 'EngineCallError';
  constructor(
    message: string,
    readonly code?: string,
    readonly method?: string,
  ) {
    super(message);
  }
}

type Listener<T> = (value: T) => void;

class Listeners<T> {
  private readonly set = new Set<Listener<T>>();

  add(listener: Listener<T>): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }

  emit(value: T): void {
    for (const listener of [...this.set]) {
      // One broken listener must not starve the others of events.
      try {
        listener(value);
      } catch (error) {
        console.error('dlflow transport: listener failed', error);
      }
    }
  }

  get size(): number {
    return this.set.size;
  }
}

/** The minimal WebSocket surface used, so tests can hand in the `ws` package's class. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface WebSocketTransportOptions {
  /** Full ws:// URL of `/ws`, token included if the cookie cannot be relied on. */
  url: string;
  /** Default globalThis.WebSocket. */
  WebSocket?: WebSocketConstructor;
  /** First reconnect delay; doubles per failed try up to maxDelayMs. Default 250. */
  initialDelayMs?: number;
  /** Default 5000. */
  maxDelayMs?: number;
  /** Where initialFile() asks; default `/api/initial` on the page's origin. */
  initialFileUrl?: string;
}

const OPEN = 1;

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

function bytesOf(data: unknown): string | Uint8Array | ArrayBuffer {
  if (typeof data === 'string' || data instanceof ArrayBuffer || data instanceof Uint8Array) return data;
  if (Array.isArray(data)) {
    // ws in Node may hand fragmented messages over as an array of buffers.
    const total = data.reduce((n: number, part: Uint8Array) => n + part.byteLength, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const part of data as Uint8Array[]) {
      out.set(part, offset);
      offset += part.byteLength;
    }
    return out;
  }
  throw new Error(`unexpected WebSocket message data of type ${Object.prototype.toString.call(data)}`);
}

/**
 * A WebSocket client of `dlflow serve`: request ids with one promise per call, events fanned out
 * to listeners, reconnect with exponential backoff. Calls made while disconnected wait for the
 * connection; calls in flight when it drops reject with code `disconnected` (a run keeps going on
 * the server, and its events resume after reconnecting).
 */
export function createWebSocketTransport(options: WebSocketTransportOptions): Transport {
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Ctor) throw new Error('no WebSocket implementation available');
  const initialDelay = options.initialDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 5000;
  const events = new Listeners<EngineEvent>();
  const states = new Listeners<ConnectionState>();
  const pending = new Map<number, Pending>();
  const unsent: { id: number; frame: string | Uint8Array }[] = [];
  let nextId = 1;
  let socket: WebSocketLike | undefined;
  let state: ConnectionState = 'connecting';
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let closedByUser = false;

  const setState = (next: ConnectionState) => {
    if (next === state) return;
    state = next;
    states.emit(next);
  };

  const handle = (message: WireMessage) => {
    switch (message.kind) {
      case 'event':
        events.emit(message.event);
        return;
      case 'response': {
        const call = pending.get(message.id);
        if (!call) return;
        pending.delete(message.id);
        if ('error' in message) call.reject(new EngineCallError(message.error.message, message.error.code, call.method));
        else call.resolve(message.result);
        return;
      }
      case 'request':
        return;
      default: {
        const never: never = message;
        return never;
      }
    }
  };

  const connect = () => {
    retryTimer = undefined;
    setState('connecting');
    let ws: WebSocketLike;
    try {
      ws = new Ctor(options.url);
    } catch (error) {
      console.error('dlflow transport: cannot open WebSocket', error);
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      attempt = 0;
      setState('open');
      for (const item of unsent.splice(0)) ws.send(item.frame);
    };
    ws.onmessage = (event) => {
      let message: WireMessage;
      try {
        message = decodeMessage(bytesOf(event.data));
      } catch (error) {
        console.error('dlflow transport: malformed message from server', error);
        return;
      }
      handle(message);
    };
    ws.onerror = () => {
      // A close event always follows; reconnecting happens there.
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = undefined;
      for (const [id, call] of pending) {
        if (unsent.some((item) => item.id === id)) continue;
        pending.delete(id);
        call.reject(new EngineCallError(`connection to the dlflow server was lost during ${call.method}`, 'disconnected', call.method));
      }
      setState('closed');
      scheduleReconnect();
    };
  };

  const scheduleReconnect = () => {
    if (closedByUser || retryTimer !== undefined) return;
    const base = Math.min(maxDelay, initialDelay * 2 ** attempt);
    attempt++;
    // Jitter so several tabs do not reconnect in lockstep after a server restart.
    retryTimer = setTimeout(connect, base * (0.75 + Math.random() * 0.5));
  };

  connect();

  return {
    kind: 'websocket',
    canPickPaths: false,
    call(method: EngineMethod, ...rest: unknown[]) {
      if (closedByUser) return Promise.reject(new EngineCallError('transport is closed', 'closed', method));
      const id = nextId++;
      const message: WireMessage = rest.length > 0 ? { kind: 'request', id, method, args: rest[0] } : { kind: 'request', id, method };
      let frame: string | Uint8Array;
      try {
        frame = encodeMessage(message);
      } catch (error) {
        return Promise.reject(new EngineCallError(`arguments of ${method} cannot be sent: ${(error as Error).message}`, 'encode', method));
      }
      return new Promise<unknown>((resolve, reject) => {
        pending.set(id, { method, resolve, reject });
        if (socket && socket.readyState === OPEN) socket.send(frame);
        else unsent.push({ id, frame });
      });
    },
    onEvent: (listener) => events.add(listener),
    connectionState: () => state,
    onConnectionChange: (listener) => states.add(listener),
    async initialFile() {
      const response = await fetch(options.initialFileUrl ?? '/api/initial', { credentials: 'same-origin' });
      if (!response.ok) throw new Error(`GET /api/initial answered ${response.status}`);
      const body = (await response.json()) as { path?: string | null };
      return body.path ?? null;
    },
    pickPath: async () => null,
    close() {
      closedByUser = true;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      for (const [, call] of pending) call.reject(new EngineCallError('transport is closed', 'closed', call.method));
      pending.clear();
      unsent.length = 0;
      if (socket) socket.close(1000, 'client closed');
      else setState('closed');
    },
  } as Transport;
}

/** Wraps Electron's preload bridge; the IPC channel never drops, so the state is always open. */
export function createBridgeTransport(bridge: DlflowBridge, search = ''): Transport {
  const states = new Listeners<ConnectionState>();
  return {
    kind: 'electron',
    canPickPaths: true,
    call: (async (method: EngineMethod, ...rest: unknown[]) => {
      let reply: BridgeReply;
      try {
        reply = await bridge.call(method, rest[0]);
      } catch (error) {
        throw new EngineCallError((error as Error)?.message ?? String(error), 'ipc', method);
      }
      if (!reply.ok) throw new EngineCallError(reply.error.message, reply.error.code, method);
      return reply.result;
    }) as Transport['call'],
    onEvent: (listener) => bridge.onEvent(listener),
    connectionState: () => 'open',
    onConnectionChange: (listener) => states.add(listener),
    initialFile: async () => new URLSearchParams(search).get('file'),
    pickPath: (options) => bridge.pickPath(options),
    close: () => undefined,
  };
}

/** The `/ws` URL for the current page, carrying the page's `?token=` when it has one. */
export function webSocketUrlFor(location: { protocol: string; host: string; search: string }): string {
  const token = new URLSearchParams(location.search).get('token');
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  // Without a token in the URL (e.g. after a reload that dropped it) the HttpOnly cookie set on
  // the first load authenticates the upgrade.
  return `${scheme}://${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

let shared: Transport | undefined;

/**
 * The transport for this page, created once: Electron's bridge when the preload exposed
 * `window.dlflow`, else a WebSocket to this page's server.
 */
export function createTransport(): Transport {
  if (shared) return shared;
  const bridge = typeof window !== 'undefined' ? window.dlflow : undefined;
  shared = bridge ? createBridgeTransport(bridge, window.location.search) : createWebSocketTransport({ url: webSocketUrlFor(window.location) });
  return shared;
}
