/** Run all, run to the selection, cancel. Status comes back as events (see runStore). */
import { engine } from '../engine/engineClient.ts';
import { freshRunId } from '../model/ids.ts';
import { dirname } from '../model/recent.ts';
import { beginRun, failRun, isRunActive } from '../model/runState.ts';
import { documentForSave, editorStore } from '../stores/editorStore.ts';
import { flushRunEvents, runStore } from '../stores/runStore.ts';
import { showToast } from '../stores/toastStore.ts';
import { uiStore } from '../stores/uiStore.ts';
import { errorText } from './documentActions.ts';

export async function startRun(targets?: string[]): Promise<void> {
  if (isRunActive(runStore.getState())) {
    showToast('A run is already in progress.', 'info');
    return;
  }
  const state = editorStore.getState();
  const document = documentForSave(state);
  if (document.nodes.length === 0) {
    showToast('Nothing to run: add nodes from the palette first.', 'info');
    return;
  }
  const runId = freshRunId();
  runStore.setState((s) => beginRun(s, runId));
  const options = {
    ...(targets && targets.length > 0 ? { targets } : {}),
    ...(state.path ? { baseDir: dirname(state.path) } : {}),
    ...(uiStore.getState().allowCode ? { allowCode: true } : {}),
  };
  try {
    const result = await engine().call('run', { document, options, runId });
    flushRunEvents();
    // The run-finished event normally settles the phase; the result covers a lost event.
    runStore.setState((s) => (s.runId === runId && isRunActive(s) ? { ...s, phase: result.status, seconds: result.seconds, error: result.error } : s));
    if (result.status === 'failed' && result.error) showToast(`Run failed: ${result.error}`, 'error');
  } catch (err) {
    flushRunEvents();
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
    await engine().call('cancel', { runId: s.runId });
  } catch (err) {
    showToast(`Could not cancel: ${errorText(err)}`, 'error');
  }
}
