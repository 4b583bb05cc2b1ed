/** A small EngineApi stand-in for server, transport and e2e tests (until and besides createEngine). */
import { readFile, writeFile } from 'node:fs/promises';
import { UserError } from '../../main/engine/errors.ts';
import type { DlflowDocument, EngineApi, EngineEvent, NodeCatalog } from '../../main/protocol/index.ts';

export const stubCatalog: NodeCatalog = {
  portTypes: [
    { id: 'dataset', label: 'Dataset', color: '#4caf50' },
    { id: 'model', label: 'Model', color: '#2196f3' },
  ],
  nodes: [
    {
      id: 'stub:load-folder',
      version: 1,
      name: 'Load folder',
      category: 'data',
      description: 'Loads images from a folder.',
      inputs: {},
      outputs: { dataset: { type: 'dataset' } },
      params: { folder: { kind: 'path', mode: 'folder', default: '' }, limit: { kind: 'integer', default: 10, min: 1 } },
      sideEffects: false,
      previews: ['image-grid'],
    },
    {
      id: 'stub:train',
      version: 1,
      name: 'Train',
      category: 'train',
      description: 'Trains a model.',
      inputs: { dataset: { type: 'dataset' } },
      outputs: { model: { type: 'model' } },
      params: { epochs: { kind: 'integer', default: 2, min: 1 } },
      sideEffects: false,
      previews: ['curves'],
    },
  ],
};

/** Deterministic fake PNG-ish bytes (the server never decodes them). */
export function fakePng(length: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 131 + seed * 7 + 17) & 0xff);
}

export interface StubEngine extends EngineApi {
  /** Sends an event to every onEvent listener, as the engine's sink would. */
  emit(event: EngineEvent): void;
  /** Every call received, in order. */
  calls: { method: string; args: unknown }[];
  listenerCount(): number;
}

/**
 * A stub whose run emits started → progress → preview (PNG bytes) → finished for each node and
 * whose open/save really read and write files, so path confinement is observable.
 */
export function createStubEngine(): StubEngine {
  const listeners = new Set<(event: EngineEvent) => void>();
  const calls: { method: string; args: unknown }[] = [];
  const cancelled = new Set<string>();
  const emit = (event: EngineEvent) => {
    for (const listener of listeners) listener(event);
  };
  const record = (method: string, args: unknown) => calls.push({ method, args });

  return {
    calls,
    emit,
    listenerCount: () => listeners.size,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async listNodes(args) {
      record('listNodes', args);
      return stubCatalog;
    },
    async info(args) {
      record('info', args);
      return {
        version: '0.0.0-stub',
        node: process.version,
        tfjs: 'none',
        backend: { name: 'stub', skipped: [], forced: false },
        cacheDir: '/nonexistent',
        cacheBytes: 0,
      };
    },
    async validate(args) {
      record('validate', args);
      return args.document.nodes
        .filter((node) => !stubCatalog.nodes.some((schema) => schema.id === node.type))
        .map((node) => ({ severity: 'error' as const, code: 'unknown-node-type' as const, message: `unknown node type ${node.type}`, nodeId: node.id }));
    },
    async run(args) {
      record('run', args);
      const { runId, document } = args;
      const started = Date.now();
      const ids = document.nodes.map((node) => node.id);
      emit({ type: 'run-started', runId, nodeIds: ids, backend: 'stub', time: started });
      const statuses: Record<string, 'done' | 'cancelled'> = {};
      for (const [index, id] of ids.entries()) {
        if (cancelled.has(runId)) {
          statuses[id] = 'cancelled';
          continue;
        }
        emit({ type: 'node-started', runId, nodeId: id, time: Date.now() });
        emit({ type: 'node-progress', runId, nodeId: id, fraction: 0.5, note: 'half way' });
        await new Promise((resolve) => setTimeout(resolve, 5));
        emit({
          type: 'node-preview',
          runId,
          nodeId: id,
          preview: { kind: 'image-grid', columns: 1, images: [{ png: fakePng(64 + index, index), width: 4, height: 4, caption: id }] },
        });
        emit({ type: 'node-finished', runId, nodeId: id, seconds: 0.005 });
        statuses[id] = 'done';
      }
      const status = cancelled.has(runId) ? 'cancelled' : 'done';
      const seconds = (Date.now() - started) / 1000;
      emit({ type: 'run-finished', runId, status, seconds, nodes: statuses });
      return { runId, status, seconds };
    },
    async cancel(args) {
      record('cancel', args);
      cancelled.add(args.runId);
      return { cancelled: true };
    },
    async openDocument(args) {
      record('openDocument', args);
      let text: string;
      try {
        text = await readFile(args.path, 'utf8');
      } catch {
        throw new UserError(`cannot read ${args.path}`);
      }
      return { path: args.path, document: JSON.parse(text) as DlflowDocument, diagnostics: [] };
    },
    async parseDocument(args) {
      record('parseDocument', args);
      try {
        return { path: args.path ?? '', document: JSON.parse(args.text) as DlflowDocument, diagnostics: [] };
      } catch (error) {
        // As the real engine does: malformed text is a diagnostic, not a failed call.
        const message = `malformed JSON: ${(error as Error).message}`;
        return { path: args.path ?? '', document: emptyDocument(), diagnostics: [{ severity: 'error', code: 'malformed-json', message }] };
      }
    },
    async saveDocument(args) {
      record('saveDocument', args);
      await writeFile(args.path, `${JSON.stringify(args.document, null, 2)}\n`);
      return { path: args.path };
    },
  };
}

export const emptyDocument = (): DlflowDocument => ({ format: 'dlflow', version: 1, nodes: [], edges: [] });
