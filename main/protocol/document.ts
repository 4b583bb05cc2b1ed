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

/** A labelled frame drawn around some nodes in the editor; it does not affect running. */
export interface DocGroup {
  id: string;
  label: string;
  nodeIds: string[];
  /** CSS colour of the frame (e.g. "#4a90d9"); absent: the editor's default. */
  color?: string;
}

export interface DlflowDocument {
  format: typeof DOCUMENT_FORMAT;
  version: number;
  nodes: DocNode[];
  edges: DocEdge[];
  groups?: DocGroup[];
  viewport?: DocViewport;
}

/**
 * Groups as they are saved (keys id, label, color?, nodeIds): member ids that name no node of
 * the document, and repeats, are dropped; a group left without members is dropped.
 */
export function savedGroups(groups: readonly DocGroup[] | undefined, nodes: readonly { id: string }[]): DocGroup[] {
  if (!groups || groups.length === 0) return [];
  const ids = new Set(nodes.map((n) => n.id));
  const out: DocGroup[] = [];
  for (const g of groups) {
    const nodeIds = [...new Set(g.nodeIds)].filter((id) => ids.has(id));
    if (nodeIds.length === 0) continue;
    out.push({ id: g.id, label: g.label, ...(g.color !== undefined ? { color: g.color } : {}), nodeIds });
  }
  return out;
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
  | 'param-invalid'
  | 'dangling-group-member'
  | 'duplicate-group-id';

/** One problem in a document, precise enough to show on the node it concerns. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  code: DiagnosticCode;
  message: string;
  nodeId?: string;
  edgeId?: string;
  /** A group (editor frame) the problem concerns. */
  groupId?: string;
  param?: string;
  port?: string;
  line?: number;
  column?: number;
}
