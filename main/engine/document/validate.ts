/** Graph and param validation of a document against the node registry: every problem at once. */
import type { Diagnostic, DlflowDocument, DocEdge, DocNode } from '../../protocol/index.ts';
import { topologicalOrder } from '../graph.ts';
import type { NodeType } from '../node-api.ts';
import { resolveParams } from '../params.ts';
import type { Registry } from '../registry.ts';

/** `node "id" (type)`: how every node-level message starts. */
export const nodeRef = (node: Pick<DocNode, 'id' | 'type'>): string => `node "${node.id}" (${node.type})`;

const edgeRef = (e: DocEdge): string => `edge "${e.id}" (${e.source}.${e.sourceHandle} → ${e.target}.${e.targetHandle})`;
const list = (keys: string[]): string => (keys.length === 0 ? 'none' : keys.join(', '));

/**
 * Checks a structurally valid document against `registry` and returns every problem, each
 * naming the node (and edge, param or port) it concerns: unknown node type (the node stays
 * in the document as a placeholder), duplicate ids, dangling edges, unknown ports, port type
 * mismatches, inputs with two edges, unconnected required inputs, params (type, range,
 * unknown keys, the node's own `checkParams`) and cycles. Empty when the document can run.
 */
export function validateDocument(doc: DlflowDocument, registry: Registry): Diagnostic[] {
  const out: Diagnostic[] = [];
  const byId = new Map<string, DocNode>();
  const types = new Map<string, NodeType>();

  const seenIds = new Map<string, number>();
  for (const node of doc.nodes) seenIds.set(node.id, (seenIds.get(node.id) ?? 0) + 1);
  for (const [id, count] of seenIds) {
    if (count > 1)
      out.push({
        severity: 'error',
        code: 'duplicate-node-id',
        nodeId: id,
        message: `node id "${id}" is used by ${count} nodes; ids must be unique`,
      });
  }

  for (const node of doc.nodes) {
    if (!byId.has(node.id)) byId.set(node.id, node);
    const type = registry.get(node.type);
    if (!type) {
      out.push({
        severity: 'error',
        code: 'unknown-node-type',
        nodeId: node.id,
        message: `${nodeRef(node)}: unknown node type "${node.type}"; kept as a placeholder, it cannot run`,
      });
      continue;
    }
    if (!types.has(node.id)) types.set(node.id, type);
    out.push(...checkNodeParams(node, type));
  }

  const seenEdges = new Map<string, number>();
  for (const e of doc.edges) seenEdges.set(e.id, (seenEdges.get(e.id) ?? 0) + 1);
  for (const [id, count] of seenEdges) {
    if (count > 1)
      out.push({
        severity: 'error',
        code: 'duplicate-edge-id',
        edgeId: id,
        message: `edge id "${id}" is used by ${count} edges; ids must be unique`,
      });
  }

  // Edges that reach an input, keyed "node\0input", whatever their other end.
  const into = new Map<string, DocEdge[]>();
  for (const e of doc.edges) {
    const source = byId.get(e.source);
    const target = byId.get(e.target);
    if (!source || !target) {
      const missing = [!source ? `source node "${e.source}"` : '', !target ? `target node "${e.target}"` : ''].filter(Boolean);
      out.push({
        severity: 'error',
        code: 'dangling-edge',
        edgeId: e.id,
        nodeId: source ? e.source : target ? e.target : undefined,
        message: `${edgeRef(e)}: ${missing.join(' and ')} ${missing.length > 1 ? 'do' : 'does'} not exist`,
      });
    }
    if (target) {
      const key = `${e.target}\0${e.targetHandle}`;
      into.set(key, [...(into.get(key) ?? []), e]);
    }
    const sourceType = types.get(e.source);
    const targetType = types.get(e.target);
    const output = sourceType?.outputs[e.sourceHandle];
    const input = targetType?.inputs[e.targetHandle];
    if (source && sourceType && !output)
      out.push({
        severity: 'error',
        code: 'unknown-port',
        nodeId: e.source,
        edgeId: e.id,
        port: e.sourceHandle,
        message: `${nodeRef(source)}: has no output "${e.sourceHandle}" (outputs: ${list(Object.keys(sourceType.outputs))}), used by edge "${e.id}"`,
      });
    if (target && targetType && !input)
      out.push({
        severity: 'error',
        code: 'unknown-port',
        nodeId: e.target,
        edgeId: e.id,
        port: e.targetHandle,
        message: `${nodeRef(target)}: has no input "${e.targetHandle}" (inputs: ${list(Object.keys(targetType.inputs))}), used by edge "${e.id}"`,
      });
    if (target && output && input && output.type !== input.type)
      out.push({
        severity: 'error',
        code: 'port-type-mismatch',
        nodeId: e.target,
        edgeId: e.id,
        port: e.targetHandle,
        message: `${nodeRef(target)}: input "${e.targetHandle}" takes ${input.type}, but edge "${e.id}" brings ${output.type} from "${e.source}".${e.sourceHandle}`,
      });
  }

  for (const node of byId.values()) {
    const type = types.get(node.id);
    if (!type) continue;
    for (const [name, port] of Object.entries(type.inputs)) {
      const edges = into.get(`${node.id}\0${name}`) ?? [];
      if (edges.length > 1)
        out.push({
          severity: 'error',
          code: 'input-already-connected',
          nodeId: node.id,
          port: name,
          message: `${nodeRef(node)}: input "${name}" has ${edges.length} edges (${edges.map((e) => `"${e.id}"`).join(', ')}); an input takes one`,
        });
      if (edges.length === 0 && !port.optional)
        out.push({
          severity: 'error',
          code: 'missing-input',
          nodeId: node.id,
          port: name,
          message: `${nodeRef(node)}: required input "${name}" (${port.type}) is not connected`,
        });
    }
  }

  for (const cycle of findCycles(doc.nodes, doc.edges)) {
    const path = [...cycle, cycle[0]].map((id) => `"${id}"`).join(' → ');
    out.push({
      severity: 'error',
      code: 'cycle',
      nodeId: cycle[0],
      message:
        cycle.length === 1
          ? `node "${cycle[0]}" is connected to itself; a pipeline cannot feed back into itself`
          : `cycle ${path}; a pipeline cannot feed back into itself`,
    });
  }
  out.push(...checkGroups(doc));
  return out;
}

/** Groups are only frames in the editor: their problems are warnings, fixed when saved. */
function checkGroups(doc: DlflowDocument): Diagnostic[] {
  const out: Diagnostic[] = [];
  const nodeIds = new Set(doc.nodes.map((n) => n.id));
  const seen = new Set<string>();
  for (const group of doc.groups ?? []) {
    if (seen.has(group.id))
      out.push({ severity: 'warning', code: 'duplicate-group-id', groupId: group.id, message: `group id "${group.id}" is used by more than one group` });
    seen.add(group.id);
    const missing = group.nodeIds.filter((id) => !nodeIds.has(id));
    if (missing.length > 0)
      out.push({
        severity: 'warning',
        code: 'dangling-group-member',
        groupId: group.id,
        message: `group "${group.id}"${group.label ? ` ("${group.label}")` : ''}: ${missing.map((id) => `"${id}"`).join(', ')} ${missing.length > 1 ? 'are not nodes' : 'is not a node'} of this document (dropped when saved)`,
      });
  }
  return out;
}

/** Param problems of one known node, messages prefixed with the node. */
function checkNodeParams(node: DocNode, type: NodeType): Diagnostic[] {
  const { values, problems } = resolveParams(type.params, node.params);
  const known = Object.keys(type.params);
  const out: Diagnostic[] = problems.map((p) => ({
    severity: 'error',
    code: p.code,
    nodeId: node.id,
    param: p.param,
    message: `${nodeRef(node)}: ${p.message}${p.code === 'param-unknown' ? ` (params: ${list(known)})` : ''}`,
  }));
  // checkParams sees typed values, so it only runs once each param is individually valid.
  if (problems.length === 0 && type.checkParams) {
    try {
      for (const p of type.checkParams(values))
        out.push({
          severity: 'error',
          code: 'param-invalid',
          nodeId: node.id,
          param: p.param,
          message: `${nodeRef(node)}: ${p.param ? `param "${p.param}": ` : ''}${p.message}`,
        });
    } catch (error) {
      out.push({
        severity: 'error',
        code: 'param-invalid',
        nodeId: node.id,
        message: `${nodeRef(node)}: checking params failed: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
  return out;
}

/**
 * The cycles of the graph, each as the node ids along one loop in edge order (a node linked
 * to itself is a cycle of one). Nodes that are merely downstream of a cycle are not named.
 */
export function findCycles(nodes: readonly DocNode[], edges: readonly DocEdge[]): string[][] {
  // Duplicate ids (reported separately) would be counted twice by the in-degree bookkeeping.
  const unique = [...new Map(nodes.map((n) => [n.id, n] as const)).values()];
  const { cyclic } = topologicalOrder(unique, edges);
  if (cyclic.length === 0) return [];
  const inCyclic = new Set(cyclic);
  const next = new Map<string, string[]>(cyclic.map((id) => [id, []]));
  for (const e of edges) {
    if (inCyclic.has(e.source) && inCyclic.has(e.target) && !next.get(e.source)!.includes(e.target)) next.get(e.source)!.push(e.target);
  }
  // Tarjan's strongly connected components; recursion depth is bounded by the nodes in cycles.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component);
    }
  };
  for (const id of cyclic) if (!index.has(id)) visit(id);

  const order = new Map(cyclic.map((id, i) => [id, i]));
  const cycles: string[][] = [];
  for (const component of components) {
    const members = new Set(component);
    const start = component.reduce((a, b) => (order.get(a)! <= order.get(b)! ? a : b));
    if (component.length === 1 && !next.get(start)!.includes(start)) continue;
    cycles.push(loopThrough(start, members, next));
  }
  return cycles.sort((a, b) => order.get(a[0])! - order.get(b[0])!);
}

/** Shortest loop from `start` back to itself inside one strongly connected component (BFS). */
function loopThrough(start: string, members: Set<string>, next: Map<string, string[]>): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of next.get(v)!) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(parent.get(path[0])!);
        return path;
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}
