/** The one event union every sink receives (terminal, WebSocket, IPC, recording). */
import type { PreviewPayload } from './preview.ts';

export type RunStatus = 'done' | 'failed' | 'cancelled';
export type NodeRunStatus = 'idle' | 'queued' | 'running' | 'cached' | 'done' | 'failed' | 'cancelled' | 'skipped';

export interface NodeErrorInfo {
  message: string;
  nodeType: string;
  param?: string;
  port?: string;
}

export type EngineEvent =
  | { type: 'run-started'; runId: string; nodeIds: string[]; backend: string; time: number }
  | {
      type: 'nodes-cached';
      runId: string;
      nodeIds: string[];
      /** The subset that comes from the disk cache (an earlier process). */
      fromDisk: string[];
      /** One-line summaries of the cached nodes, where they have one. */
      summaries?: Record<string, string>;
    }
  | { type: 'node-started'; runId: string; nodeId: string; time: number }
  | {
      type: 'node-progress';
      runId: string;
      nodeId: string;
      fraction: number;
      note?: string;
      etaSeconds?: number;
    }
  | { type: 'node-preview'; runId: string; nodeId: string; preview: PreviewPayload }
  | { type: 'node-log'; runId: string; nodeId: string; level: 'info' | 'warn'; message: string }
  | { type: 'node-finished'; runId: string; nodeId: string; seconds: number; summary?: string }
  | { type: 'node-failed'; runId: string; nodeId: string; error: NodeErrorInfo; seconds: number }
  | {
      type: 'run-finished';
      runId: string;
      status: RunStatus;
      seconds: number;
      error?: string;
      /** Per node final status, for summaries. */
      nodes: Record<string, NodeRunStatus>;
    };

export type EngineEventType = EngineEvent['type'];
export type EventOf<T extends EngineEventType> = Extract<EngineEvent, { type: T }>;
