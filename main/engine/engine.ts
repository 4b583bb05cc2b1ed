/** createEngine: the engine as a library object that every front end drives. */
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type {
  BackendInfo,
  DlflowDocument,
  EngineApi,
  EngineEvent,
  EngineInfo,
  OpenedDocument,
  RunOptions,
  RunResult,
} from '../protocol/index.ts';
import { selectBackend } from './backend/select.ts';
import { OutputCache } from './cache.ts';
import { parseDocumentText, readDocumentFile, validateDocument, writeDocumentFile } from './document/index.ts';
import { UserError } from './errors.ts';
import { executeRun } from './executor.ts';
import { upstreamClosure } from './graph.ts';
import type { NodeType, PortTypeDefinition } from './node-api.ts';
import { createRegistry, type Registry } from './registry.ts';

export const ENGINE_VERSION = '0.1.0';

export interface EngineOptions {
  nodes: readonly NodeType[];
  portTypes: readonly PortTypeDefinition[];
  /** Receives every event (in addition to onEvent listeners). */
  sink?: (event: EngineEvent) => void;
  /** Default: $DLFLOW_CACHE_DIR, else ~/.cache/dlflow. */
  cacheDir?: string;
  /** In-memory output cache budget. Default 2 GiB. */
  memoryBudgetBytes?: number;
  /** Force a backend (`wasm`, `cpu`, ...); `none` skips TF setup (stub-node tests). */
  backend?: string;
  progressIntervalMs?: number;
  previewIntervalMs?: number;
}

export interface Engine extends EngineApi {
  readonly registry: Registry;
  readonly backend: BackendInfo;
  readonly cacheDir: string;
  /** Ids of runs in progress. */
  activeRuns(): string[];
  /** Cancels runs, disposes cached tensors. */
  dispose(): Promise<void>;
}

/** Default cache folder, overridable with DLFLOW_CACHE_DIR. */
export function defaultCacheDir(): string {
  return process.env.DLFLOW_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dlflow');
}

/**
 * Creates an engine: checks the node registry, selects the TF backend, and returns the API.
 * Runs execute one at a time (TF.js is a single process-wide engine); a second `run` while one
 * is active is rejected with a clear error.
 */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  const registry = createRegistry(options.nodes, options.portTypes);
  const backend: BackendInfo =
    options.backend === 'none' ? { name: 'none', skipped: [], forced: true } : await selectBackend(options.backend);
  const cacheDir = resolve(options.cacheDir ?? defaultCacheDir());
  const cache = new OutputCache(registry, cacheDir, options.memoryBudgetBytes ?? 2 * 1024 ** 3);
  const listeners = new Set<(event: EngineEvent) => void>();
  const controllers = new Map<string, AbortController>();

  const emit = (event: EngineEvent): void => {
    options.sink?.(event);
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A broken listener must not break the run.
      }
    }
  };

  const engine: Engine = {
    registry,
    backend,
    cacheDir,
    activeRuns: () => [...controllers.keys()],
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async listNodes() {
      return registry.catalog();
    },
    async info(): Promise<EngineInfo> {
      return {
        version: ENGINE_VERSION,
        node: process.version,
        tfjs: tf.version.tfjs,
        backend,
        cacheDir,
        cacheBytes: await cache.diskBytes(),
      };
    },
    async validate({ document }) {
      return validateDocument(document, registry);
    },
    async run({ document, options: runOptions = {}, runId }): Promise<RunResult> {
      return runDocument(document, runOptions, runId);
    },
    async cancel({ runId }) {
      const controller = controllers.get(runId);
      controller?.abort();
      return { cancelled: Boolean(controller) };
    },
    async openDocument({ path }): Promise<OpenedDocument> {
      const full = resolve(path);
      const { document, diagnostics } = await readDocumentFile(full, registry);
      if (!document) throw new UserError(diagnostics.map((d) => d.message).join('\n') || `cannot open ${full}`);
      return { path: full, document, diagnostics };
    },
    async parseDocument({ text, path }): Promise<OpenedDocument> {
      const { document, diagnostics } = parseDocumentText(text, { registry, path });
      if (!document) throw new UserError(diagnostics.map((d) => d.message).join('\n'));
      return { path: path ?? '', document, diagnostics };
    },
    async saveDocument({ path, document, fromPath }) {
      const full = resolve(path);
      await writeDocumentFile(full, document, registry, { fromDir: fromPath ? dirname(resolve(fromPath)) : undefined });
      return { path: full };
    },
    async dispose() {
      for (const c of controllers.values()) c.abort();
      listeners.clear();
      cache.clear();
    },
  };

  async function runDocument(document: DlflowDocument, runOptions: RunOptions, runId: string): Promise<RunResult> {
    if (controllers.size > 0) throw new UserError(`a run is already in progress (${[...controllers.keys()].join(', ')})`);
    if (controllers.has(runId)) throw new UserError(`run id "${runId}" is in use`);
    // Run-to-selected needs only the targets' upstream to be valid: a half-wired node elsewhere
    // on the canvas must not block trying the part that is ready.
    const targets = runOptions.targets?.filter(Boolean) ?? [];
    const unknownTargets = targets.filter((t) => !document.nodes.some((n) => n.id === t));
    if (unknownTargets.length > 0) throw new UserError(`no node with id ${unknownTargets.map((t) => `"${t}"`).join(', ')}`);
    const needed = targets.length > 0 ? upstreamClosure(targets, document.edges) : undefined;
    const scope: DlflowDocument = needed
      ? {
          ...document,
          nodes: document.nodes.filter((n) => needed.has(n.id)),
          edges: document.edges.filter((e) => needed.has(e.source) && needed.has(e.target)),
        }
      : document;
    const errors = validateDocument(scope, registry).filter((d) => d.severity === 'error');
    if (errors.length > 0) {
      const message = errors.map((d) => d.message).join('\n');
      emit({ type: 'run-started', runId, nodeIds: [], backend: backend.name, time: Date.now() });
      emit({ type: 'run-finished', runId, status: 'failed', seconds: 0, error: message, nodes: {} });
      return { runId, status: 'failed', seconds: 0, error: message };
    }
    const controller = new AbortController();
    controllers.set(runId, controller);
    try {
      return await executeRun(
        {
          registry,
          cache,
          emit,
          backend: () => backend.name,
          progressIntervalMs: options.progressIntervalMs ?? 100,
          previewIntervalMs: options.previewIntervalMs ?? 250,
        },
        scope,
        runOptions,
        runId,
        controller.signal,
      );
    } finally {
      controllers.delete(runId);
    }
  }

  return engine;
}

/** Folder a document's relative paths resolve against. */
export function documentBaseDir(path: string): string {
  return dirname(resolve(path));
}
