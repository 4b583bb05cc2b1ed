/** The run as the UI sees it: per-node status, progress, previews and a log, folded from events. */
import type {
  EngineEvent,
  NodeErrorInfo,
  NodeRunStatus,
  PreviewKind,
  PreviewPayload,
  RunStatus,
} from '../../../main/protocol/index.ts';

export interface NodeRunState {
  status: NodeRunStatus;
  fraction?: number;
  note?: string;
  etaSeconds?: number;
  error?: NodeErrorInfo;
  seconds?: number;
  summary?: string;
  /** The latest preview of each kind, in the order kinds first arrived. */
  previews: Partial<Record<PreviewKind, PreviewPayload>>;
  previewOrder: PreviewKind[];
}

export interface RunLogEntry {
  seq: number;
  time: number;
  nodeId?: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface RunState {
  runId?: string;
  phase: 'idle' | 'starting' | 'running' | RunStatus;
  backend?: string;
  seconds?: number;
  error?: string;
  nodes: Readonly<Record<string, NodeRunState>>;
  log: readonly RunLogEntry[];
  seq: number;
}

export const LOG_LIMIT = 2000;

export const IDLE_NODE: NodeRunState = Object.freeze({ status: 'idle', previews: {}, previewOrder: [] }) as NodeRunState;

export function initialRunState(): RunState {
  return { phase: 'idle', nodes: {}, log: [], seq: 0 };
}

export function isRunActive(s: RunState): boolean {
  return s.phase === 'starting' || s.phase === 'running';
}

/** The user pressed Run: remember the id so events of other runs are ignored. */
export function beginRun(s: RunState, runId: string, now = Date.now()): RunState {
  const log = appendLog(s, { time: now, level: 'info', message: 'Run requested' });
  return { ...s, runId, phase: 'starting', error: undefined, seconds: undefined, ...log };
}

/** The run call itself failed (e.g. the transport is down) before or without events. */
export function failRun(s: RunState, runId: string, message: string, now = Date.now()): RunState {
  if (s.runId !== runId) return s;
  const nodes = { ...s.nodes };
  for (const [id, n] of Object.entries(nodes)) if (n.status === 'queued' || n.status === 'running') nodes[id] = { ...n, status: 'idle' };
  return { ...s, phase: 'failed', error: message, nodes, ...appendLog(s, { time: now, level: 'error', message }) };
}

function appendLog(s: RunState, entry: Omit<RunLogEntry, 'seq'>): { log: RunLogEntry[]; seq: number } {
  const seq = s.seq + 1;
  const log = s.log.length >= LOG_LIMIT ? s.log.slice(s.log.length - LOG_LIMIT + 1) : s.log.slice();
  log.push({ ...entry, seq });
  return { log, seq };
}

function patchNode(nodes: Readonly<Record<string, NodeRunState>>, id: string, patch: Partial<NodeRunState>): Record<string, NodeRunState> {
  const prev = nodes[id] ?? IDLE_NODE;
  return { ...nodes, [id]: { ...prev, ...patch } };
}

/** Folds one engine event into the state. Events of another run are ignored. */
export function applyRunEvent(s: RunState, e: EngineEvent, now = Date.now()): RunState {
  if (e.type !== 'run-started' && e.runId !== s.runId) return s;
  if (e.type === 'run-started' && s.runId !== undefined && e.runId !== s.runId) return s;
  switch (e.type) {
    case 'run-started': {
      const nodes: Record<string, NodeRunState> = { ...s.nodes };
      for (const id of e.nodeIds) {
        const prev = nodes[id] ?? IDLE_NODE;
        nodes[id] = { ...prev, status: 'queued', fraction: undefined, note: undefined, error: undefined, seconds: undefined, summary: undefined };
      }
      return {
        ...s,
        runId: e.runId,
        phase: 'running',
        backend: e.backend,
        nodes,
        ...appendLog(s, { time: now, level: 'info', message: `Run started on ${e.backend}: ${e.nodeIds.length} node(s)` }),
      };
    }
    case 'nodes-cached': {
      let nodes: Record<string, NodeRunState> = { ...s.nodes };
      for (const id of e.nodeIds) nodes = patchNode(nodes, id, { status: 'cached', fraction: 1 });
      const disk = e.fromDisk.length > 0 ? ` (${e.fromDisk.length} from disk)` : '';
      return { ...s, nodes, ...appendLog(s, { time: now, level: 'info', message: `From cache: ${e.nodeIds.join(', ')}${disk}` }) };
    }
    case 'node-started':
      return {
        ...s,
        nodes: patchNode(s.nodes, e.nodeId, { status: 'running', fraction: 0, note: undefined, error: undefined }),
        ...appendLog(s, { time: now, nodeId: e.nodeId, level: 'info', message: 'started' }),
      };
    case 'node-progress':
      return { ...s, nodes: patchNode(s.nodes, e.nodeId, { fraction: e.fraction, note: e.note, etaSeconds: e.etaSeconds }) };
    case 'node-preview': {
      const prev = s.nodes[e.nodeId] ?? IDLE_NODE;
      const kind = e.preview.kind;
      const previewOrder = prev.previewOrder.includes(kind) ? prev.previewOrder : [...prev.previewOrder, kind];
      return { ...s, nodes: patchNode(s.nodes, e.nodeId, { previews: { ...prev.previews, [kind]: e.preview }, previewOrder }) };
    }
    case 'node-log':
      return { ...s, ...appendLog(s, { time: now, nodeId: e.nodeId, level: e.level, message: e.message }) };
    case 'node-finished':
      return {
        ...s,
        nodes: patchNode(s.nodes, e.nodeId, { status: 'done', fraction: 1, seconds: e.seconds, summary: e.summary }),
        ...appendLog(s, { time: now, nodeId: e.nodeId, level: 'info', message: `done in ${e.seconds.toFixed(2)} s${e.summary ? ` — ${e.summary}` : ''}` }),
      };
    case 'node-failed':
      return {
        ...s,
        nodes: patchNode(s.nodes, e.nodeId, { status: 'failed', error: e.error, seconds: e.seconds }),
        ...appendLog(s, { time: now, nodeId: e.nodeId, level: 'error', message: e.error.message }),
      };
    case 'run-finished': {
      const nodes: Record<string, NodeRunState> = { ...s.nodes };
      for (const [id, status] of Object.entries(e.nodes)) {
        const prev = nodes[id] ?? IDLE_NODE;
        if (prev.status !== status) nodes[id] = { ...prev, status };
      }
      // Anything still marked as in flight did not get to run.
      for (const [id, n] of Object.entries(nodes)) if (n.status === 'queued' || n.status === 'running') nodes[id] = { ...n, status: e.status === 'cancelled' ? 'cancelled' : 'skipped' };
      const level = e.status === 'done' ? 'info' : e.status === 'cancelled' ? 'warn' : 'error';
      const message = `Run ${e.status} in ${e.seconds.toFixed(2)} s${e.error ? `: ${e.error}` : ''}`;
      return { ...s, phase: e.status, seconds: e.seconds, error: e.error, nodes, ...appendLog(s, { time: now, level, message }) };
    }
    default: {
      const never: never = e;
      throw new Error(`unhandled event ${(never as EngineEvent).type}`);
    }
  }
}

/** Forget statuses (keeps previews): used when a document is replaced. */
export function clearRunNodes(s: RunState): RunState {
  return { ...s, nodes: {}, phase: isRunActive(s) ? s.phase : 'idle' };
}
