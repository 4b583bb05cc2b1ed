/** The `.dlflow` document as it is on disk (after migration to the current version). */

export const DOCUMENT_FORMAT = 'dlflow';
/** Current document format version. Bump together with a migration in engine/document/migrations. */
export const DOCUMENT_VERSION = 1;

export interface DocPosition {
  x: number;
  y: number;
}

export interface DocNode {
  id: string;
  type: string;
  params: Record<string, unknown>;
  position: DocPosition;
  label?: string;
  /**
   * Version of the node type whose params these are. Absent means 1. Needed so per-node
   * param migrations know which of them to apply (see engine/document/migrations.ts).
   */
  typeVersion?: number;
}

export interface DocEdge {
  id: string;
  source: string;
  sourceHandle: string;
  target: string;
  targetHandle: string;
}

export interface DocViewport {
  x: number;
  y: number;
  zoom: number;
}

export interface DlflowDocument {
  format: typeof DOCUMENT_FORMAT;
  version: number;
  nodes: DocNode[];
  edges: DocEdge[];
  viewport?: DocViewport;
}

export type DiagnosticCode =
  | 'malformed-json'
  | 'invalid-document'
  | 'newer-version'
  | 'unknown-node-type'
  | 'duplicate-node-id'
  | 'duplicate-edge-id'
  | 'missing-input'
  | 'port-type-mismatch'
  | 'unknown-port'
  | 'input-already-connected'
  | 'cycle'
  | 'dangling-edge'
  | 'param-out-of-range'
  | 'param-wrong-type'
  | 'param-unknown'
  | 'param-invalid';

/** One problem in a document, precise enough to show on the node it concerns. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  code: DiagnosticCode;
  message: string;
  nodeId?: string;
  edgeId?: string;
  param?: string;
  port?: string;
  line?: number;
  column?: number;
}
