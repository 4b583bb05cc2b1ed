/** Run all, run to the selection, cancel. Status comes back as events (see runStore). */
import type { RunResult } from '../../../main/protocol/index.ts';
import { engine } from '../engine/engineClient.ts';
import { freshRunId } from '../model/ids.ts';
import { dirname } from '../model/recent.ts';
import { beginRun, failRun, isRunActive } from '../model/runState.ts';
import { documentForSave, editorStore } from '../stores/editorStore.ts';
import { flushRunEvents, runStore } from '../stores/runStore.ts';
import { showToast } from '../stores/toastStore.ts';
import { closeDialog, openDialog } from '../stores/uiStore.ts';
import { errorText } from './documentActions.ts';

/** The error code a call gets when the connection drops while it is in flight. */
function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Set while the code-trust check of a run that is about to start is in flight. */
let checkingTrust = false;
/** A run whose `run` call was cut off by a lost connection; asked about after the reconnect. */
let detachedRunId: string | undefined;

/** Applies a run's result unless its run-finished event already did. */
function settleRun(runId: string, result: RunResult): void {
  runStore.setState((s) => (s.runId === runId && isRunActive(s) ? { ...s, phase: result.status, seconds: result.seconds, error: result.error } : s));
  if (result.status === 'failed' && result.error) showToast(`Run failed: ${result.error}`, 'error');
}

/**
 * After a reconnect: if a run lost its reply with the connection, ask the host how it stands. Still
 * running: keep following its events. Ended meanwhile: show how. Unknown (the server restarted):
 * say the outcome is unknown.
 */
export async function resyncDetachedRun(): Promise<void> {
  const runId = detachedRunId;
  if (!runId) return;
  const s = runStore.getState();
  if (s.runId !== runId || !isRunActive(s)) {
    detachedRunId = undefined;
    return;
  }
  try {
    const status = await engine().call('runStatus', { runId });
    flushRunEvents();
    if (status.active) return;
    detachedRunId = undefined;
    if (status.result) settleRun(runId, status.result);
    else runStore.setState((cur) => (cur.runId === runId && isRunActive(cur) ? failRun(cur, runId, 'The connection was lost and the server no longer knows this run (restarted?); its outcome is unknown.') : cur));
  } catch {
    // Still no answer (a host without runStatus, or down again): the next reconnect asks again.
  }
}

/**
 * Runs the current document (or what `targets` need). A document with code the host does not
 * trust yet opens the trust dialog instead; the host decides `allowCode` itself, so the UI never
 * sends it.
 */
export async function startRun(targets?: string[]): Promise<void> {
  if (isRunActive(runStore.getState()) || checkingTrust) {
    showToast('A run is already in progress.', 'info');
    return;
  }
  const document = documentForSave(editorStore.getState());
  if (document.nodes.length === 0) {
    showToast('Nothing to run: add nodes from the palette first.', 'info');
    return;
  }
  checkingTrust = true;
  try {
    const trust = await engine().call('codeTrust', { document });
    if (trust.hash !== undefined && !trust.trusted) {
      openDialog({ kind: 'trust-code', hash: trust.hash, codeNodes: trust.codeNodes ?? [], ...(targets && targets.length > 0 ? { targets } : {}) });
      return;
    }
  } catch (err) {
    // A host without code trust runs code nodes never; anything else is worth saying.
    if (errorCode(err) !== 'unknown-method') {
      showToast(`Could not check whether this file's code is trusted: ${errorText(err)}`, 'error');
      return;
    }
  } finally {
    checkingTrust = false;
  }
  await runNow(targets);
}

/** The trust dialog's "Trust and run": records trust in this code on the host, then runs. */
export async function trustAndRun(hash: string, targets?: string[]): Promise<void> {
  const path = editorStore.getState().path;
  try {
    await engine().call('trustCode', { hash, ...(path ? { path } : {}) });
  } catch (err) {
    showToast(`Could not record trust: ${errorText(err)}`, 'error');
    return;
  }
  closeDialog();
  await startRun(targets);
}

async function runNow(targets?: string[]): Promise<void> {
  if (isRunActive(runStore.getState())) return;
  const state = editorStore.getState();
  const document = documentForSave(state);
  const runId = freshRunId();
  runStore.setState((s) => beginRun(s, runId));
  const options = {
    ...(targets && targets.length > 0 ? { targets } : {}),
    ...(state.path ? { baseDir: dirname(state.path) } : {}),
  };
  try {
    const result = await engine().call('run', { document, options, runId });
    flushRunEvents();
    // The run-finished event normally settles the phase; the result covers a lost event.
    settleRun(runId, result);
  } catch (err) {
    flushRunEvents();
    if (errorCode(err) === 'disconnected') {
      // The run goes on on the server; its events resume once the connection is back.
      if (runStore.getState().runId === runId && isRunActive(runStore.getState())) {
        detachedRunId = runId;
        showToast('Connection lost; the run continues on the server and will be followed again once reconnected.', 'info');
        return;
      }
    }
    runStore.setState((s) => failRun(s, runId, `Run failed: ${errorText(err)}`));
    showToast(`Run failed: ${errorText(err)}`, 'error');
  }
}

export function runAll(): Promise<void> {
  return startRun();
}

/** Runs the selected nodes and what they need. */
export function runToSelected(): Promise<void> {
  const selected = [...editorStore.getState().selectedNodes];
  if (selected.length === 0) {
    showToast('Select the node(s) to run up to first.', 'info');
    return Promise.resolve();
  }
  return startRun(selected);
}

export async function cancelRun(): Promise<void> {
  const s = runStore.getState();
  if (!s.runId || !isRunActive(s)) return;
  try {
    const { cancelled } = await engine().call('cancel', { runId: s.runId });
    // The engine has no such run: it ended while the connection was down and its end was missed.
    flushRunEvents();
    if (!cancelled) runStore.setState((cur) => (cur.runId === s.runId && isRunActive(cur) ? failRun(cur, s.runId!, 'The run ended while the connection was lost; its outcome is unknown.') : cur));
  } catch (err) {
    showToast(`Could not cancel: ${errorText(err)}`, 'error');
  }
}
