/**
 * DlflowDocument ↔ React Flow nodes/edges. The document is the source of truth; React Flow
 * objects are a view of it. Handle ids are the port keys, so a wire maps 1:1 to a DocEdge.
 */
import type { Edge, Node } from '@xyflow/react';
import type { DlflowDocument, DocEdge, DocNode } from '../../../main/protocol/index.ts';
import { portColor, type CatalogIndex } from './catalog.ts';

export const FLOW_NODE_TYPE = 'dlflow';

export type FlowNodeData = { node: DocNode };
export type FlowNode = Node<FlowNodeData, typeof FLOW_NODE_TYPE>;
export type FlowEdge = Edge;
export interface NodeSize {
  width: number;
  height: number;
}

export function docNodeToFlow(node: DocNode, selected = false): FlowNode {
  return { id: node.id, type: FLOW_NODE_TYPE, position: { x: node.position.x, y: node.position.y }, data: { node }, selected };
}

export function docEdgeToFlow(edge: DocEdge, index?: CatalogIndex, doc?: DlflowDocument, selected = false): FlowEdge {
  const out: FlowEdge = {
    id: edge.id,
    source: edge.source,
    sourceHandle: edge.sourceHandle,
    target: edge.target,
    targetHandle: edge.targetHandle,
    selected,
  };
  if (index && doc) {
    const src = doc.nodes.find((n) => n.id === edge.source);
    const type = src ? index.byId.get(src.type)?.outputs[edge.sourceHandle]?.type : undefined;
    if (type) out.style = { stroke: portColor(index, type) };
  }
  return out;
}

/** The whole document as React Flow elements. */
export function documentToFlow(
  doc: DlflowDocument,
  opts: { index?: CatalogIndex; selectedNodes?: ReadonlySet<string>; selectedEdges?: ReadonlySet<string> } = {},
): { nodes: FlowNode[]; edges: FlowEdge[] } {
  return {
    nodes: doc.nodes.map((n) => docNodeToFlow(n, opts.selectedNodes?.has(n.id) ?? false)),
    edges: doc.edges.map((e) => docEdgeToFlow(e, opts.index, doc, opts.selectedEdges?.has(e.id) ?? false)),
  };
}

/**
 * Back from React Flow to the document: positions from the flow nodes, everything else from the
 * DocNode they carry. The result has exactly the document's shape (no React Flow fields).
 */
export function flowToDocument(base: DlflowDocument, nodes: readonly FlowNode[], edges: readonly FlowEdge[]): DlflowDocument {
  const docNodes: DocNode[] = nodes.map((f) => {
    const n = f.data.node;
    const out: DocNode = { id: f.id, type: n.type, params: { ...n.params }, position: { x: Math.round(f.position.x), y: Math.round(f.position.y) } };
    if (n.label !== undefined) out.label = n.label;
    if (n.typeVersion !== undefined) out.typeVersion = n.typeVersion;
    return out;
  });
  const docEdges: DocEdge[] = edges.map((e) => ({
    id: e.id,
    source: e.source,
    sourceHandle: e.sourceHandle ?? '',
    target: e.target,
    targetHandle: e.targetHandle ?? '',
  }));
  const out: DlflowDocument = { format: base.format, version: base.version, nodes: docNodes, edges: docEdges };
  if (base.groups) out.groups = base.groups.map((g) => ({ ...g, nodeIds: [...g.nodeIds] }));
  if (base.viewport) out.viewport = { ...base.viewport };
  return out;
}

/**
 * A converter that reuses the previous React Flow object for a node whose DocNode and selection
 * are unchanged, so React Flow (which compares node objects by identity) re-renders only what
 * changed — this is what keeps dragging on a 200-node document smooth.
 */
export function createFlowCache() {
  type NodeEntry = { src: DocNode; selected: boolean; size: NodeSize | undefined; flow: FlowNode };
  let nodeCache = new Map<string, NodeEntry>();
  let edgeCache = new Map<string, { src: DocEdge; selected: boolean; index: CatalogIndex | undefined; srcType: string | undefined; flow: FlowEdge }>();
  return function convert(
    doc: DlflowDocument,
    index: CatalogIndex | undefined,
    selectedNodes: ReadonlySet<string>,
    selectedEdges: ReadonlySet<string>,
    sizes: ReadonlyMap<string, NodeSize> = new Map(),
  ): { nodes: FlowNode[]; edges: FlowEdge[] } {
    const nextNodes = new Map<string, NodeEntry>();
    const byId = new Map<string, DocNode>();
    const nodes = doc.nodes.map((n) => {
      byId.set(n.id, n);
      const selected = selectedNodes.has(n.id);
      const size = sizes.get(n.id);
      const hit = nodeCache.get(n.id);
      let flow: FlowNode;
      if (hit && hit.src === n && hit.selected === selected && hit.size === size) flow = hit.flow;
      else {
        flow = docNodeToFlow(n, selected);
        // React Flow only shows a controlled node once it carries its measured size.
        if (size) flow.measured = { width: size.width, height: size.height };
      }
      nextNodes.set(n.id, { src: n, selected, size, flow });
      return flow;
    });
    const nextEdges: typeof edgeCache = new Map();
    const edges = doc.edges.map((e) => {
      const selected = selectedEdges.has(e.id);
      const srcType = byId.get(e.source)?.type;
      const hit = edgeCache.get(e.id);
      const flow =
        hit && hit.src === e && hit.selected === selected && hit.index === index && hit.srcType === srcType
          ? hit.flow
          : docEdgeToFlow(e, index, doc, selected);
      nextEdges.set(e.id, { src: e, selected, index, srcType, flow });
      return flow;
    });
    nodeCache = nextNodes;
    edgeCache = nextEdges;
    return { nodes, edges };
  };
}
