/** Canvas edits: add, delete, connect, paste, duplicate, align, params. Each is one undo step. */
import type { DocPosition } from '../../../main/protocol/index.ts';
import { defaultParams } from '../model/catalog.ts';
import { clipboardText, copySelection, parseClipboard, pasteInto } from '../model/clipboard.ts';
import { checkConnection, type ConnectionAttempt } from '../model/connections.ts';
import { addNode, alignPositions, connect, moveNodes, removeElements, setLabel, setParam, type AlignMode, type NodeBox } from '../model/documentOps.ts';
import { groupNodes, nextGroupColor, setGroupColor, setGroupLabel, ungroup } from '../model/groups.ts';
import { catalogStore } from '../stores/catalogStore.ts';
import { currentDocument, editDocument, editorStore, setSelection } from '../stores/editorStore.ts';
import { showToast } from '../stores/toastStore.ts';

/** Adds a node of `type` with its default params at `position` and selects it. */
export function addNodeOfType(type: string, position: DocPosition): string | undefined {
  const schema = catalogStore.getState().index.byId.get(type);
  if (!schema) {
    showToast(`Unknown node type ${type}`, 'error');
    return undefined;
  }
  let id: string | undefined;
  editDocument((doc) => {
    const r = addNode(doc, type, defaultParams(schema), position, schema.version);
    id = r.id;
    return r.doc;
  });
  if (id) setSelection([id]);
  return id;
}

/** Checks and adds a wire; shows the reason as a toast when refused. */
export function connectWire(c: ConnectionAttempt): boolean {
  const check = checkConnection(currentDocument(), catalogStore.getState().index, c);
  if (!check.ok) {
    showToast(check.reason, 'error');
    return false;
  }
  editDocument((doc) => connect(doc, { source: c.source!, sourceHandle: c.sourceHandle!, target: c.target!, targetHandle: c.targetHandle! }).doc);
  return true;
}

export function deleteSelection(): void {
  const s = editorStore.getState();
  if (s.selectedNodes.size === 0 && s.selectedEdges.size === 0) return;
  editDocument((doc) => removeElements(doc, s.selectedNodes, s.selectedEdges));
}

export function deleteNodes(ids: Iterable<string>, edges: Iterable<string> = []): void {
  editDocument((doc) => removeElements(doc, ids, edges));
}

let lastCopied: string | undefined;

/** The last text copied from this editor (where the system clipboard is unavailable). */
export function lastCopiedText(): string | undefined {
  return lastCopied;
}

/** The selection as clipboard text (also remembered), or undefined when nothing is selected. */
export function copySelectionText(): string | undefined {
  const s = editorStore.getState();
  if (s.selectedNodes.size === 0) return undefined;
  lastCopied = clipboardText(copySelection(s.history.present, s.selectedNodes));
  return lastCopied;
}

/** Pastes clipboard text; returns false when it holds no nodes. */
export function pasteText(text: string, at?: DocPosition): boolean {
  const payload = parseClipboard(text);
  if (!payload || payload.nodes.length === 0) return false;
  let ids: string[] = [];
  editDocument((doc) => {
    const r = pasteInto(doc, payload, at ? { at } : { offset: { x: 40, y: 40 } });
    ids = r.ids;
    return r.doc;
  });
  setSelection(ids);
  return true;
}

export function duplicateSelection(): void {
  const text = copySelectionText();
  if (text) pasteText(text);
}

export function selectAll(): void {
  const doc = currentDocument();
  setSelection(
    doc.nodes.map((n) => n.id),
    doc.edges.map((e) => e.id),
  );
}

export function setNodeParam(nodeId: string, key: string, value: unknown): void {
  editDocument((doc) => setParam(doc, nodeId, key, value), `param:${nodeId}:${key}`);
}

export function setNodeLabel(nodeId: string, label: string): void {
  editDocument((doc) => setLabel(doc, nodeId, label), `label:${nodeId}`);
}

export function alignSelection(mode: AlignMode, boxes: NodeBox[]): void {
  if (boxes.length < 2) {
    showToast('Select two or more nodes to align.', 'info');
    return;
  }
  editDocument((doc) => moveNodes(doc, alignPositions(boxes, mode)));
}

/** Ctrl+G: frames the selected nodes in a new labelled group (taking them out of other groups). */
export function groupSelection(label = 'Group'): string | undefined {
  const selected = editorStore.getState().selectedNodes;
  if (selected.size === 0) {
    showToast('Select the nodes to group first.', 'info');
    return undefined;
  }
  let groupId: string | undefined;
  editDocument((doc) => {
    const r = groupNodes(doc, selected, label);
    groupId = r.groupId;
    return r.doc;
  });
  return groupId;
}

/** Ctrl+Shift+G: removes the frames of the given groups, or of the groups holding selected nodes (the nodes stay). */
export function ungroupSelection(groupIds?: Iterable<string>): void {
  const doc = currentDocument();
  const selected = editorStore.getState().selectedNodes;
  const ids = groupIds ? [...groupIds] : (doc.groups ?? []).filter((g) => g.nodeIds.some((id) => selected.has(id))).map((g) => g.id);
  if (ids.length === 0) {
    showToast('No group to remove: select a grouped node or a frame.', 'info');
    return;
  }
  editDocument((d) => ungroup(d, ids));
}

export function renameGroup(groupId: string, label: string): void {
  editDocument((d) => setGroupLabel(d, groupId, label), `group-label:${groupId}`);
}

/** The frame's colour button: the next colour of GROUP_COLORS (then the default again). */
export function cycleGroupColor(groupId: string): void {
  editDocument((d) => setGroupColor(d, groupId, nextGroupColor(d.groups?.find((g) => g.id === groupId)?.color)));
}
