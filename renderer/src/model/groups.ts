/**
 * Groups: labelled frames around nodes. Pure, immutable edits of the document's `groups` and
 * the geometry of a frame (computed from its members, never stored). A node belongs to at most
 * one group: grouping nodes takes them out of the groups they were in.
 */
import type { DlflowDocument, DocGroup, DocPosition } from '../../../main/protocol/index.ts';
import type { NodeSize } from './flowConversion.ts';

/** Space between the members' bounds and the frame; the top leaves room for the label. */
export const GROUP_PADDING = { side: 24, top: 44, bottom: 24 } as const;
/** Size assumed for a node React Flow has not measured yet. */
export const DEFAULT_NODE_SIZE: NodeSize = { width: 200, height: 90 };
/** Prefix of a frame's React Flow node id (document node ids are made of word characters and '-'). */
export const GROUP_FLOW_PREFIX = '__group__:';

export const groupFlowId = (groupId: string): string => `${GROUP_FLOW_PREFIX}${groupId}`;
export const isGroupFlowId = (flowId: string): boolean => flowId.startsWith(GROUP_FLOW_PREFIX);
export const groupIdOfFlow = (flowId: string): string => flowId.slice(GROUP_FLOW_PREFIX.length);

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The frame around the group's members that exist, or undefined when none does. */
export function groupBounds(group: DocGroup, doc: DlflowDocument, sizes: ReadonlyMap<string, NodeSize>): Rect | undefined {
  const members = new Set(group.nodeIds);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const n of doc.nodes) {
    if (!members.has(n.id)) continue;
    const size = sizes.get(n.id) ?? DEFAULT_NODE_SIZE;
    minX = Math.min(minX, n.position.x);
    minY = Math.min(minY, n.position.y);
    maxX = Math.max(maxX, n.position.x + size.width);
    maxY = Math.max(maxY, n.position.y + size.height);
  }
  if (minX === Infinity) return undefined;
  return {
    x: minX - GROUP_PADDING.side,
    y: minY - GROUP_PADDING.top,
    width: maxX - minX + 2 * GROUP_PADDING.side,
    height: maxY - minY + GROUP_PADDING.top + GROUP_PADDING.bottom,
  };
}

/** A group id not used yet: g1, g2, … */
export function freshGroupId(doc: DlflowDocument): string {
  const taken = new Set((doc.groups ?? []).map((g) => g.id));
  for (let i = 1; ; i++) if (!taken.has(`g${i}`)) return `g${i}`;
}

/** Removes `nodeIds` from every group, dropping groups left empty. */
function withoutMembers(groups: readonly DocGroup[], nodeIds: ReadonlySet<string>): DocGroup[] {
  const out: DocGroup[] = [];
  for (const g of groups) {
    if (!g.nodeIds.some((id) => nodeIds.has(id))) {
      out.push(g);
      continue;
    }
    const kept = g.nodeIds.filter((id) => !nodeIds.has(id));
    if (kept.length > 0) out.push({ ...g, nodeIds: kept });
  }
  return out;
}

function withGroups(doc: DlflowDocument, groups: DocGroup[]): DlflowDocument {
  const { groups: _old, ...rest } = doc;
  return groups.length > 0 ? { ...rest, groups } : rest;
}

/** Puts the existing nodes among `nodeIds` into a new group labelled `label`. */
export function groupNodes(doc: DlflowDocument, nodeIds: Iterable<string>, label = 'Group'): { doc: DlflowDocument; groupId?: string } {
  const existing = new Set(doc.nodes.map((n) => n.id));
  const members = [...new Set(nodeIds)].filter((id) => existing.has(id));
  if (members.length === 0) return { doc };
  const groupId = freshGroupId(doc);
  const groups = [...withoutMembers(doc.groups ?? [], new Set(members)), { id: groupId, label, nodeIds: members }];
  return { doc: withGroups(doc, groups), groupId };
}

/** Removes the groups (the frames only; their nodes stay). */
export function ungroup(doc: DlflowDocument, groupIds: Iterable<string>): DlflowDocument {
  const drop = new Set(groupIds);
  const groups = doc.groups ?? [];
  if (!groups.some((g) => drop.has(g.id))) return doc;
  return withGroups(
    doc,
    groups.filter((g) => !drop.has(g.id)),
  );
}

export function setGroupLabel(doc: DlflowDocument, groupId: string, label: string): DlflowDocument {
  const groups = doc.groups ?? [];
  const g = groups.find((x) => x.id === groupId);
  if (!g || g.label === label) return doc;
  return withGroups(
    doc,
    groups.map((x) => (x.id === groupId ? { ...x, label } : x)),
  );
}

/** The group that holds each node (after a removal, only nodes still in the document count). */
export function groupOfNode(doc: DlflowDocument, nodeId: string): DocGroup | undefined {
  return (doc.groups ?? []).find((g) => g.nodeIds.includes(nodeId));
}

/**
 * New positions for the members of the moved frames: `frameMoves` maps a group id to the frame's
 * new top-left, `current` is its top-left now; members already being moved (dragged along with
 * the frame) are left to their own move.
 */
export function memberMoves(
  doc: DlflowDocument,
  frameMoves: ReadonlyMap<string, { to: DocPosition; from: DocPosition }>,
  alreadyMoving: ReadonlySet<string>,
): Map<string, DocPosition> {
  const out = new Map<string, DocPosition>();
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  for (const g of doc.groups ?? []) {
    const move = frameMoves.get(g.id);
    if (!move) continue;
    const dx = move.to.x - move.from.x;
    const dy = move.to.y - move.from.y;
    if (dx === 0 && dy === 0) continue;
    for (const id of g.nodeIds) {
      const n = byId.get(id);
      if (!n || alreadyMoving.has(id) || out.has(id)) continue;
      out.set(id, { x: n.position.x + dx, y: n.position.y + dy });
    }
  }
  return out;
}

/** Frame colours offered by the frame's colour button, in cycling order (absent = default grey). */
export const GROUP_COLORS = ['#4f8cff', '#3fb77e', '#e0a33e', '#e05561', '#8a7cff', '#3fb7b7'] as const;

/** The colour after `color` in GROUP_COLORS, back to the default after the last. */
export function nextGroupColor(color: string | undefined): string | undefined {
  const i = color === undefined ? -1 : GROUP_COLORS.indexOf(color as (typeof GROUP_COLORS)[number]);
  return i + 1 < GROUP_COLORS.length ? GROUP_COLORS[i + 1] : undefined;
}

export function setGroupColor(doc: DlflowDocument, groupId: string, color: string | undefined): DlflowDocument {
  const groups = doc.groups ?? [];
  const g = groups.find((x) => x.id === groupId);
  if (!g || g.color === color) return doc;
  return withGroups(
    doc,
    groups.map((x) => {
      if (x.id !== groupId) return x;
      const { color: _old, ...rest } = x;
      return color === undefined ? rest : { ...rest, color };
    }),
  );
}
