/** The engine's API as every front end sees it (Electron IPC, WebSocket, in-process). */
import type { Diagnostic, DlflowDocument } from './document.ts';
import type { EngineEvent, RunStatus } from './events.ts';
import type { NodeCatalog } from './schema.ts';

export interface BackendInfo {
  name: string;
  /** Why each better backend was skipped, in order tried. */
  skipped: { name: string; reason: string }[];
  forced: boolean;
}

export interface EngineInfo {
  version: string;
  node: string;
  tfjs: string;
  backend: BackendInfo;
  cacheDir: string;
  cacheBytes: number;
}

export interface RunOptions {
  /** Only run what these nodes need (run up to the selection). Default: every node. */
  targets?: string[];
  /** Ignore (but refresh) caches. */
  noCache?: boolean;
  /** Folder the document lives in: relative paths resolve against it. */
  baseDir?: string;
  /** Allow code nodes to run (the caller has established trust). */
  allowCode?: boolean;
}

export interface RunResult {
  runId: string;
  status: RunStatus;
  seconds: number;
  error?: string;
}

export interface OpenedDocument {
  path: string;
  document: DlflowDocument;
  diagnostics: Diagnostic[];
}

/**
 * Request/response methods. Each is `(args) => Promise<result>` on the client. Events arrive
 * separately through `onEvent`.
 */
export interface EngineMethods {
  listNodes(): NodeCatalog;
  info(): EngineInfo;
  validate(args: { document: DlflowDocument }): Diagnostic[];
  /** Starts a run and resolves when it ends; events stream meanwhile. */
  run(args: { document: DlflowDocument; options?: RunOptions; runId: string }): RunResult;
  cancel(args: { runId: string }): { cancelled: boolean };
  openDocument(args: { path: string }): OpenedDocument;
  parseDocument(args: { text: string; path?: string }): OpenedDocument;
  /**
   * Writes atomically. `fromPath` is where the document was opened from: on save-as to another
   * folder, relative path params are rebased so they still point at the same files.
   */
  saveDocument(args: { path: string; document: DlflowDocument; fromPath?: string }): { path: string };
  /**
   * Whether the document's code (code params of code nodes) is trusted on this machine. `hash` is
   * absent when the document runs no code (nothing to ask). Answered by the host (server,
   * Electron engine host) from its trust store, never by the engine itself.
   */
  codeTrust(args: { document: DlflowDocument }): CodeTrust;
  /** Records the user's trust in code with this hash (from `codeTrust`); later runs of it get `allowCode`. */
  trustCode(args: { hash: string; path?: string }): CodeTrust;
  /**
   * Whether a run is still going, or how it ended (for a client whose `run` call was cut off by a
   * lost connection). Answered by the host from the runs it started; `known: false` for others.
   */
  runStatus(args: { runId: string }): RunStatusReply;
}

export interface RunStatusReply {
  known: boolean;
  active: boolean;
  /** How it ended, once it has. */
  result?: RunResult;
}

/** A document's code hash and whether the user trusts it. */
export interface CodeTrust {
  /** SHA-256 (hex) of the document's code; absent when it has no code nodes. */
  hash?: string;
  trusted: boolean;
  /** Ids of the nodes that run code. */
  codeNodes?: string[];
}

/** Methods answered by the host around the engine (code trust), not by the engine. */
export type HostMethod = 'codeTrust' | 'trustCode' | 'runStatus';

export type EngineMethod = keyof EngineMethods;
export type EngineArgs<M extends EngineMethod> = Parameters<EngineMethods[M]>[0];
export type EngineResult<M extends EngineMethod> = ReturnType<EngineMethods[M]>;

/** The client side of the transport: one typed call plus an event subscription. */
export interface EngineClient {
  call<M extends EngineMethod>(method: M, ...args: EngineArgs<M> extends undefined ? [] : [EngineArgs<M>]): Promise<EngineResult<M>>;
  onEvent(listener: (event: EngineEvent) => void): () => void;
}

/**
 * The engine as a server-side object: every method async, plus the event stream. Host methods
 * are optional: the engine leaves them out and a host wrapper (main/server/trust.ts) adds them;
 * without them a call is answered `unknown-method`.
 */
export type EngineApi = {
  [M in Exclude<EngineMethod, HostMethod>]: (args: EngineArgs<M>) => Promise<EngineResult<M>>;
} & {
  [M in HostMethod]?: (args: EngineArgs<M>) => Promise<EngineResult<M>>;
} & {
  onEvent(listener: (event: EngineEvent) => void): () => void;
};
