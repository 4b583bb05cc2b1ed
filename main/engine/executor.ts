/** Runs a validated document's DAG: cache lookups, node execution, events, cancel. */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type {
  DlflowDocument,
  EngineEvent,
  NodeRunStatus,
  PreviewPayload,
  RunOptions,
  RunResult,
} from '../protocol/index.ts';
import type { OutputCache, CacheEntry } from './cache.ts';
import { CancelledError, NodeError, isCancelled } from './errors.ts';
import { topologicalOrder, upstreamClosure } from './graph.ts';
import type { NodeType, RunContext } from './node-api.ts';
import { resolveParams } from './params.ts';
import { createRandom, hashString } from './random.ts';
import type { Registry } from './registry.ts';
import { stableStringify } from './stable-json.ts';

export interface ExecutorDeps {
  registry: Registry;
  cache: OutputCache;
  emit: (event: EngineEvent) => void;
  backend: () => string;
  progressIntervalMs: number;
  previewIntervalMs: number;
}

interface Planned {
  id: string;
  node: NodeType;
  params: Record<string, unknown>;
  key: string;
  /** input port -> [source node id, source output] */
  inputs: Map<string, [string, string]>;
}

const now = (): number => performance.now();

/** Hash of a node's identity and everything it depends on: change one, and it re-runs. */
function cacheKey(
  node: NodeType,
  params: Record<string, unknown>,
  fingerprint: string,
  inputKeys: Record<string, string>,
): string {
  const material = stableStringify({ type: node.id, version: node.version, params, fingerprint, inputs: inputKeys });
  return createHash('sha256').update(material).digest('hex').slice(0, 32);
}

/**
 * Executes one run. The document must already be valid (the engine validates first).
 * Nodes run one at a time in topological order; a failure skips what depends on it while
 * independent branches still run; a cancel stops at once.
 */
export async function executeRun(
  deps: ExecutorDeps,
  document: DlflowDocument,
  options: RunOptions,
  runId: string,
  signal: AbortSignal,
): Promise<RunResult> {
  const started = now();
  const { registry, cache, emit } = deps;
  const baseDir = resolve(options.baseDir ?? process.cwd());
  const byId = new Map(document.nodes.map((n) => [n.id, n]));
  const wanted = options.targets?.length ? upstreamClosure(options.targets, document.edges) : undefined;
  const order = topologicalOrder(document.nodes, document.edges).order.filter((id) => !wanted || wanted.has(id));
  const statuses: Record<string, NodeRunStatus> = Object.fromEntries(order.map((id) => [id, 'queued' as NodeRunStatus]));

  // Plan: resolve params and cache keys in order (a key depends on upstream keys).
  const planned = new Map<string, Planned>();
  for (const id of order) {
    const docNode = byId.get(id)!;
    const node = registry.get(docNode.type)!;
    const { values } = resolveParams(node.params, docNode.params);
    const inputs = new Map<string, [string, string]>();
    const inputKeys: Record<string, string> = {};
    for (const e of document.edges) {
      if (e.target !== id) continue;
      inputs.set(e.targetHandle, [e.source, e.sourceHandle]);
      inputKeys[e.targetHandle] = `${planned.get(e.source)?.key ?? 'missing'}:${e.sourceHandle}`;
    }
    let fingerprint = '';
    if (node.fingerprint) {
      try {
        fingerprint = await node.fingerprint(values, { baseDir });
      } catch (error) {
        // Fingerprint failure (say, a missing folder) surfaces when the node runs.
        fingerprint = `error:${error instanceof Error ? error.message : String(error)}:${now()}`;
      }
    }
    planned.set(id, { id, node, params: values, key: cacheKey(node, values, fingerprint, inputKeys), inputs });
  }

  emit({ type: 'run-started', runId, nodeIds: order, backend: deps.backend(), time: Date.now() });

  // What the cache can serve (side-effect nodes always run).
  const servable = (p: Planned): boolean => !options.noCache && !p.node.sideEffects;
  const fromMemory = order.filter((id) => servable(planned.get(id)!) && cache.hasInMemory(planned.get(id)!.key));
  const fromDisk = order.filter((id) => {
    const p = planned.get(id)!;
    return servable(p) && !cache.hasInMemory(p.key) && cache.canPersist(p.node) && cache.hasOnDisk(p.key);
  });
  if (fromMemory.length + fromDisk.length > 0) {
    const summaries: Record<string, string> = {};
    for (const id of [...fromMemory, ...fromDisk]) {
      const key = planned.get(id)!.key;
      const summary = cache.hasInMemory(key) ? cache.get(key)?.summary : cache.peekDiskSummary(key);
      if (summary) summaries[id] = summary;
    }
    emit({ type: 'nodes-cached', runId, nodeIds: [...fromMemory, ...fromDisk], fromDisk, summaries });
  }
  for (const p of planned.values()) cache.pin(p.key);

  const results = new Map<string, CacheEntry>();
  const failed = new Set<string>();
  let cancelled = false;
  let firstError: string | undefined;

  try {
    for (const id of order) {
      const p = planned.get(id)!;
      if (signal.aborted) {
        cancelled = true;
        break;
      }
      const upstreamFailed = [...p.inputs.values()].some(([src]) => failed.has(src) || !results.has(src));
      if (upstreamFailed) {
        statuses[id] = 'skipped';
        failed.add(id);
        continue;
      }
      // Cache.
      if (servable(p)) {
        let entry = cache.get(p.key);
        if (!entry && fromDisk.includes(id)) entry = await cache.loadFromDisk(p.node, p.key);
        if (entry) {
          results.set(id, entry);
          statuses[id] = 'cached';
          for (const preview of entry.previews) emit({ type: 'node-preview', runId, nodeId: id, preview });
          continue;
        }
      }
      const outcome = await runNode(deps, p, results, { runId, baseDir, signal, allowCode: options.allowCode ?? false });
      if (outcome.ok) {
        results.set(id, outcome.entry);
        statuses[id] = 'done';
      } else if (outcome.cancelled) {
        statuses[id] = 'cancelled';
        cancelled = true;
        break;
      } else {
        statuses[id] = 'failed';
        failed.add(id);
        firstError ??= outcome.message;
      }
    }
  } finally {
    cache.unpinAll();
    cache.evict();
  }
  for (const id of order) if (statuses[id] === 'queued') statuses[id] = cancelled ? 'cancelled' : 'skipped';
  const status = cancelled ? 'cancelled' : failed.size > 0 ? 'failed' : 'done';
  const seconds = (now() - started) / 1000;
  const error = status === 'failed' ? firstError : undefined;
  emit({ type: 'run-finished', runId, status, seconds, error, nodes: statuses });
  return { runId, status, seconds, error };
}

type NodeOutcome = { ok: true; entry: CacheEntry } | { ok: false; cancelled: boolean; message: string };

async function runNode(
  deps: ExecutorDeps,
  p: Planned,
  results: Map<string, CacheEntry>,
  run: { runId: string; baseDir: string; signal: AbortSignal; allowCode: boolean },
): Promise<NodeOutcome> {
  const { emit, cache } = deps;
  const { runId } = run;
  const nodeId = p.id;
  const t0 = now();
  emit({ type: 'node-started', runId, nodeId, time: Date.now() });

  // Progress and previews are throttled per node; the latest always gets through at the end.
  let lastProgressAt = -Infinity;
  let pendingProgress: EngineEvent | undefined;
  const previews = new Map<string, PreviewPayload>();
  let lastPreviewAt = -Infinity;
  let pendingPreview: PreviewPayload | undefined;
  const flush = (): void => {
    if (pendingProgress) emit(pendingProgress);
    if (pendingPreview) emit({ type: 'node-preview', runId, nodeId, preview: pendingPreview });
    pendingProgress = undefined;
    pendingPreview = undefined;
  };
  const cleanups: (() => void | Promise<void>)[] = [];
  const seedParam = Object.entries(p.node.params).find(([, s]) => s.kind === 'seed')?.[0];
  const seed = seedParam ? Number(p.params[seedParam]) : hashString(`${p.node.id}/${nodeId}`);
  const cacheDir = join(cache.dir, 'nodes', p.key);

  const ctx: RunContext = {
    signal: run.signal,
    nodeId,
    baseDir: run.baseDir,
    cacheDir,
    allowCode: run.allowCode,
    random: createRandom(seed),
    progress(fraction, note) {
      const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
      const elapsed = (now() - t0) / 1000;
      const etaSeconds = f > 0.01 && f < 1 ? (elapsed * (1 - f)) / f : undefined;
      pendingProgress = { type: 'node-progress', runId, nodeId, fraction: f, note, etaSeconds };
      if (now() - lastProgressAt >= deps.progressIntervalMs || f >= 1) {
        lastProgressAt = now();
        emit(pendingProgress);
        pendingProgress = undefined;
      }
    },
    preview(payload) {
      previews.set(payload.kind, payload);
      pendingPreview = payload;
      if (now() - lastPreviewAt >= deps.previewIntervalMs) {
        lastPreviewAt = now();
        emit({ type: 'node-preview', runId, nodeId, preview: payload });
        pendingPreview = undefined;
      }
    },
    log(message, level = 'info') {
      emit({ type: 'node-log', runId, nodeId, level, message });
    },
    onCleanup(fn) {
      cleanups.push(fn);
    },
    throwIfCancelled() {
      if (run.signal.aborted) throw new CancelledError();
    },
  };

  const inputs: Record<string, unknown> = {};
  for (const [port, [src, out]] of p.inputs) inputs[port] = results.get(src)!.outputs[out];

  try {
    await mkdir(cacheDir, { recursive: true });
    const outputs = await p.node.run(inputs, p.params, ctx);
    if (run.signal.aborted) {
      // The node finished after the cancel: its outputs are dropped, not cached.
      cache.disposeValues(p.node.id, outputs, Object.values(inputs));
      throw new CancelledError();
    }
    const missing = Object.keys(p.node.outputs).filter((k) => !(k in (outputs ?? {})));
    if (missing.length > 0) throw new Error(`did not produce output ${missing.map((m) => `"${m}"`).join(', ')}`);
    if (p.node.preview) {
      try {
        const extra = p.node.preview(outputs, p.params);
        for (const payload of Array.isArray(extra) ? extra : extra ? [extra] : []) {
          previews.set(payload.kind, payload);
          pendingPreview = undefined;
          emit({ type: 'node-preview', runId, nodeId, preview: payload });
        }
      } catch (error) {
        ctx.log(`preview failed: ${error instanceof Error ? error.message : String(error)}`, 'warn');
      }
    }
    flush();
    const summary = p.node.summary?.(outputs, p.params);
    const entry = cache.put({ key: p.key, typeId: p.node.id, outputs, previews: [...previews.values()], summary });
    cache.pin(p.key);
    if (cache.canPersist(p.node) && !p.node.sideEffects) {
      try {
        await cache.saveToDisk(p.node, entry);
      } catch (error) {
        ctx.log(`could not store outputs in the disk cache: ${error instanceof Error ? error.message : String(error)}`, 'warn');
      }
    }
    emit({ type: 'node-finished', runId, nodeId, seconds: (now() - t0) / 1000, summary });
    return { ok: true, entry };
  } catch (error) {
    flush();
    const seconds = (now() - t0) / 1000;
    if (run.signal.aborted || isCancelled(error)) {
      emit({
        type: 'node-failed',
        runId,
        nodeId,
        seconds,
        error: { message: `node "${nodeId}" (${p.node.id}): cancelled`, nodeType: p.node.id },
      });
      return { ok: false, cancelled: true, message: 'cancelled' };
    }
    const where = error instanceof NodeError ? error.where : {};
    const detail = error instanceof Error ? error.message : String(error);
    const at = where.param ? `param "${where.param}": ` : where.port ? `input "${where.port}": ` : '';
    const message = `node "${nodeId}" (${p.node.id}): ${at}${detail}`;
    emit({ type: 'node-failed', runId, nodeId, seconds, error: { message, nodeType: p.node.id, ...where } });
    return { ok: false, cancelled: false, message };
  } finally {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // Cleanup is best effort; the node's outcome is already decided.
      }
    }
  }
}
