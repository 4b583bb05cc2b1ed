/**
 * The open document with its undo history, its file path, what is saved, and the selection.
 * Every edit goes through `editDocument` so every edit is undoable.
 */
import type { Diagnostic, DlflowDocument, DocViewport } from '../../../main/protocol/index.ts';
import { emptyDocument } from '../model/documentOps.ts';
import { createHistory, record, recordFrom, redo, replacePresent, undo, type History } from '../model/history.ts';
import { createStore, useStoreSelector } from './store.ts';

export interface EditorState {
  history: History<DlflowDocument>;
  /** The document as last saved or opened; dirty = present differs from it. */
  saved: DlflowDocument;
  path?: string;
  /** Problems reported when the file was opened (unknown node types, migrations). */
  openDiagnostics: readonly Diagnostic[];
  selectedNodes: ReadonlySet<string>;
  selectedEdges: ReadonlySet<string>;
  /** Current canvas viewport; written into the file on save, not an edit by itself. */
  viewport?: DocViewport;
  /** Bumped when a whole new document is loaded, so the canvas re-fits its view. */
  loadCount: number;
}

const EMPTY_SET: ReadonlySet<string> = new Set();

function initial(): EditorState {
  const doc = emptyDocument();
  return { history: createHistory(doc), saved: doc, openDiagnostics: [], selectedNodes: EMPTY_SET, selectedEdges: EMPTY_SET, loadCount: 0 };
}

export const editorStore = createStore<EditorState>(initial());

export function useEditorStore<S>(selector: (s: EditorState) => S): S {
  return useStoreSelector(editorStore, selector);
}

export const selectDocument = (s: EditorState): DlflowDocument => s.history.present;
export const selectDirty = (s: EditorState): boolean => s.history.present !== s.saved;

export function currentDocument(): DlflowDocument {
  return editorStore.getState().history.present;
}

/** Applies an edit as one undo step (edits with the same `key` in a quick burst merge). */
export function editDocument(fn: (doc: DlflowDocument) => DlflowDocument, key?: string): void {
  editorStore.setState((s) => {
    const next = fn(s.history.present);
    if (next === s.history.present) return s;
    return pruneSelection({ ...s, history: record(s.history, next, { key }) });
  });
}

/** A live gesture frame (dragging): changes the document without an undo step. */
export function editDocumentLive(fn: (doc: DlflowDocument) => DlflowDocument): void {
  editorStore.setState((s) => {
    const next = fn(s.history.present);
    return next === s.history.present ? s : { ...s, history: replacePresent(s.history, next) };
  });
}

/** Ends a live gesture: one undo step from `base` to now. */
export function commitLiveEdit(base: DlflowDocument): void {
  editorStore.setState((s) => ({ ...s, history: recordFrom(s.history, base) }));
}

export function undoEdit(): void {
  editorStore.setState((s) => (s.history.past.length === 0 ? s : pruneSelection({ ...s, history: undo(s.history) })));
}

export function redoEdit(): void {
  editorStore.setState((s) => (s.history.future.length === 0 ? s : pruneSelection({ ...s, history: redo(s.history) })));
}

/** Replaces the document wholesale (new/open/restore): fresh history. */
export function loadDocument(doc: DlflowDocument, opts: { path?: string; diagnostics?: readonly Diagnostic[]; dirty?: boolean } = {}): void {
  editorStore.setState((s) => ({
    history: createHistory(doc),
    saved: opts.dirty ? ({ ...doc } as DlflowDocument) : doc,
    path: opts.path,
    openDiagnostics: opts.diagnostics ?? [],
    selectedNodes: EMPTY_SET,
    selectedEdges: EMPTY_SET,
    viewport: doc.viewport,
    loadCount: s.loadCount + 1,
  }));
}

/** After a successful save of `doc` to `path`. */
export function markSaved(doc: DlflowDocument, path: string): void {
  editorStore.setState((s) => ({ ...s, saved: doc, path }));
}

export function setViewport(viewport: DocViewport): void {
  editorStore.setState((s) => ({ ...s, viewport }));
}

export function setSelection(nodes: Iterable<string>, edges: Iterable<string> = []): void {
  const n = new Set(nodes);
  const e = new Set(edges);
  editorStore.setState((s) =>
    sameSet(n, s.selectedNodes) && sameSet(e, s.selectedEdges) ? s : { ...s, selectedNodes: n, selectedEdges: e },
  );
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Drops selected ids that no longer exist (after delete, undo of an add, …). */
function pruneSelection(s: EditorState): EditorState {
  const doc = s.history.present;
  const nodes = new Set(doc.nodes.map((n) => n.id));
  const edges = new Set(doc.edges.map((e) => e.id));
  const keptNodes = [...s.selectedNodes].filter((id) => nodes.has(id));
  const keptEdges = [...s.selectedEdges].filter((id) => edges.has(id));
  if (keptNodes.length === s.selectedNodes.size && keptEdges.length === s.selectedEdges.size) return s;
  return { ...s, selectedNodes: new Set(keptNodes), selectedEdges: new Set(keptEdges) };
}

/** The document as it is written to disk: the edit state plus the current viewport. */
export function documentForSave(s: EditorState = editorStore.getState()): DlflowDocument {
  const doc = s.history.present;
  if (!s.viewport) return doc;
  const v = s.viewport;
  return { ...doc, viewport: { x: Math.round(v.x), y: Math.round(v.y), zoom: Math.round(v.zoom * 1000) / 1000 } };
}

/** For tests: back to an empty editor. */
export function resetEditor(): void {
  editorStore.setState(initial());
}
