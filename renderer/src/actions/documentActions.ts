/** New / open / save / save as, through the engine transport, with recent files and recovery. */
import type { Diagnostic, OpenedDocument } from '../../../main/protocol/index.ts';
import { engine } from '../engine/engineClient.ts';
import { emptyDocument } from '../model/documentOps.ts';
import { clearRecovery, pushRecent, type KeyValueStorage, type RecoveryCopy } from '../model/recent.ts';
import { clearRunNodes } from '../model/runState.ts';
import { documentForSave, editorStore, loadDocument, markSaved, selectDirty } from '../stores/editorStore.ts';
import { runStore } from '../stores/runStore.ts';
import { showToast } from '../stores/toastStore.ts';
import { openDialog } from '../stores/uiStore.ts';

const storage = (): KeyValueStorage | undefined => (typeof localStorage === 'undefined' ? undefined : localStorage);

/** Asks before throwing away unsaved edits. */
export function confirmDiscard(): boolean {
  if (!selectDirty(editorStore.getState())) return true;
  return typeof window === 'undefined' || window.confirm('Discard unsaved changes to this pipeline?');
}

export function newDocument(): void {
  if (!confirmDiscard()) return;
  loadDocument(emptyDocument());
  runStore.setState(clearRunNodes);
  const s = storage();
  if (s) clearRecovery(s);
}

const BLOCKING: ReadonlySet<Diagnostic['code']> = new Set(['malformed-json', 'invalid-document', 'newer-version']);

/** Describes why an opened document cannot be shown, or undefined when it can. */
export function openProblem(opened: Pick<OpenedDocument, 'diagnostics'>): string | undefined {
  const blocking = opened.diagnostics.filter((d) => d.severity === 'error' && BLOCKING.has(d.code));
  if (blocking.length === 0) return undefined;
  const newer = blocking.find((d) => d.code === 'newer-version');
  if (newer) return `This file was written by a newer dlflow and is not opened, so it is not damaged: ${newer.message}`;
  return blocking.map((d) => (d.line ? `line ${d.line}: ${d.message}` : d.message)).join('\n');
}

/** Shows an opened document (or says why not). Returns whether it was loaded. */
export function acceptOpened(opened: OpenedDocument): boolean {
  const problem = openProblem(opened);
  if (problem) {
    openDialog({ kind: 'message', title: `Cannot open ${opened.path}`, body: problem });
    return false;
  }
  loadDocument(opened.document, { path: opened.path, diagnostics: opened.diagnostics });
  runStore.setState(clearRunNodes);
  const unknown = opened.diagnostics.filter((d) => d.code === 'unknown-node-type');
  if (unknown.length > 0) showToast(`${unknown.length} node(s) of unknown type kept as placeholders.`, 'info');
  const s = storage();
  if (s) pushRecent(s, opened.path);
  return true;
}

export async function openPath(path: string, opts: { skipConfirm?: boolean } = {}): Promise<boolean> {
  const trimmed = path.trim();
  if (trimmed === '') return false;
  if (!opts.skipConfirm && !confirmDiscard()) return false;
  try {
    const opened = await engine().call('openDocument', { path: trimmed });
    return acceptOpened(opened);
  } catch (err) {
    // The engine refuses unusable files (bad JSON, newer format version) with the reason.
    const message = errorText(err);
    const newer = /newer/i.test(message);
    openDialog({
      kind: 'message',
      title: `Cannot open ${trimmed}`,
      body: newer ? `This file was written by a newer dlflow, so it is not opened (and not damaged):\n\n${message}` : message,
    });
    return false;
  }
}

export async function saveTo(path: string): Promise<boolean> {
  const trimmed = path.trim();
  if (trimmed === '') return false;
  const state = editorStore.getState();
  const present = state.history.present;
  try {
    // fromPath lets the engine rebase relative paths when saving into another folder.
    const result = await engine().call('saveDocument', { path: trimmed, document: documentForSave(state), ...(state.path ? { fromPath: state.path } : {}) });
    markSaved(present, result.path);
    const s = storage();
    if (s) {
      pushRecent(s, result.path);
      clearRecovery(s);
    }
    showToast(`Saved ${result.path}`, 'success');
    return true;
  } catch (err) {
    showToast(`Could not save ${trimmed}: ${errorText(err)}`, 'error');
    return false;
  }
}

/** Save: to the current file, or ask for a path when there is none. */
export async function saveDocument(): Promise<boolean> {
  const path = editorStore.getState().path;
  if (!path) {
    openDialog({ kind: 'save-as' });
    return false;
  }
  return saveTo(path);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Loads the crash-recovery copy; it stays marked unsaved because it is not on disk. */
export function restoreRecovery(copy: RecoveryCopy): void {
  loadDocument(copy.document, { path: copy.path, dirty: true });
  runStore.setState(clearRunNodes);
}
