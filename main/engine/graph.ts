/** Pure graph helpers over a document: topological order, cycles, upstream closure. */
import type { DocEdge, DocNode } from '../protocol/index.ts';

/**
 * Kahn's algorithm over nodes and edges (edges to unknown nodes are ignored). Returns the
 * order, and the ids left over when there is a cycle (empty when acyclic). Ties keep document
 * order so runs are deterministic.
 */
export function topologicalOrder(nodes: readonly DocNode[], edges: readonly DocEdge[]): { order: string[]; cyclic: string[] } {
  const ids = nodes.map((n) => n.id);
  const known = new Set(ids);
  const indegree = new Map(ids.map((id) => [id, 0]));
  const next = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const e of edges) {
    if (!known.has(e.source) || !known.has(e.target)) continue;
    next.get(e.source)!.push(e.target);
    indegree.set(e.target, indegree.get(e.target)! + 1);
  }
  const ready = ids.filter((id) => indegree.get(id) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    order.push(id);
    for (const t of next.get(id)!) {
      const d = indegree.get(t)! - 1;
      indegree.set(t, d);
      if (d === 0) ready.push(t);
    }
  }
  const placed = new Set(order);
  return { order, cyclic: ids.filter((id) => !placed.has(id)) };
}

/** The given targets and everything upstream of them. */
export function upstreamClosure(targets: readonly string[], edges: readonly DocEdge[]): Set<string> {
  const into = new Map<string, string[]>();
  for (const e of edges) {
    const list = into.get(e.target) ?? [];
    list.push(e.source);
    into.set(e.target, list);
  }
  const seen = new Set<string>();
  const stack = [...targets];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(into.get(id) ?? []));
  }
  return seen;
}
