import { beforeEach, describe, expect, it } from 'vitest';
import type { DlflowDocument, EngineEvent, RunResult } from '../../main/protocol/index.ts';
import { acceptOpened, openPath, saveDocument, saveTo } from '../../renderer/src/actions/documentActions.ts';
import { addNodeOfType, connectWire, deleteSelection, duplicateSelection, pasteText, copySelectionText, setNodeParam } from '../../renderer/src/actions/editActions.ts';
import { cancelRun, resyncDetachedRun, runAll, runToSelected, trustAndRun } from '../../renderer/src/actions/runActions.ts';
import { setEngineClient } from '../../renderer/src/engine/engineClient.ts';
import { indexCatalog } from '../../renderer/src/model/catalog.ts';
import { initialRunState } from '../../renderer/src/model/runState.ts';
import { catalogStore } from '../../renderer/src/stores/catalogStore.ts';
import { currentDocument, editorStore, loadDocument, redoEdit, resetEditor, selectDirty, setSelection, undoEdit } from '../../renderer/src/stores/editorStore.ts';
import { enqueueRunEvent, flushRunEvents, runStore } from '../../renderer/src/stores/runStore.ts';
import { toastStore } from '../../renderer/src/stores/toastStore.ts';
import { uiStore } from '../../renderer/src/stores/uiStore.ts';
import { createFakeTransport, type FakeTransport } from './fakeTransport.ts';
import { catalog, sampleDoc } from './fixtures.ts';

let fake: FakeTransport;
const dirty = () => selectDirty(editorStore.getState());
const toasts = () => toastStore.getState().toasts.map((t) => t.message);

beforeEach(() => {
  fake = createFakeTransport();
  setEngineClient(fake);
  catalogStore.setState({ index: indexCatalog(catalog), loaded: true });
  resetEditor();
  runStore.setState(initialRunState());
  toastStore.setState({ toasts: [] });
  uiStore.setState((s) => ({ ...s, dialog: undefined }));
});

describe('editing through the store', () => {
  it('adds nodes with default params, wires them, refuses bad wires with a toast, and undoes it all', () => {
    const a = addNodeOfType('test:data:load', { x: 0, y: 0 })!;
    const b = addNodeOfType('test:train:train', { x: 300, y: 0 })!;
    expect(currentDocument().nodes.map((n) => n.params)).toEqual([{ count: 10, seed: 1 }, { epochs: 3 }]);
    expect([...editorStore.getState().selectedNodes]).toEqual([b]);
    expect(connectWire({ source: a, sourceHandle: 'dataset', target: b, targetHandle: 'model' })).toBe(false);
    expect(toasts()[0]).toMatch(/Type mismatch/);
    expect(currentDocument().edges).toHaveLength(0);
    expect(connectWire({ source: a, sourceHandle: 'dataset', target: b, targetHandle: 'dataset' })).toBe(true);
    expect(currentDocument().edges).toHaveLength(1);
    undoEdit();
    expect(currentDocument().edges).toHaveLength(0);
    undoEdit();
    undoEdit();
    expect(currentDocument().nodes).toHaveLength(0);
    expect(dirty()).toBe(false);
    redoEdit();
    expect(currentDocument().nodes).toHaveLength(1);
  });

  it('coalesces a burst of param edits into one undo step', () => {
    loadDocument(sampleDoc(), { path: '/x/a.dlflow' });
    for (const v of [0.6, 0.7, 0.8]) setNodeParam('flip-1', 'p', v);
    expect(currentDocument().nodes[1].params.p).toBe(0.8);
    expect(dirty()).toBe(true);
    undoEdit();
    expect(currentDocument().nodes[1].params.p).toBe(0.5);
    expect(dirty()).toBe(false);
  });

  it('deletes the selection with its wires; duplicate and paste give fresh ids', () => {
    loadDocument(sampleDoc());
    setSelection(['flip-1']);
    deleteSelection();
    expect(currentDocument().nodes.map((n) => n.id)).toEqual(['load-1', 'train-1']);
    expect(currentDocument().edges).toHaveLength(0);
    expect(editorStore.getState().selectedNodes.size).toBe(0);
    undoEdit();
    setSelection(['load-1', 'flip-1']);
    duplicateSelection();
    expect(currentDocument().nodes.map((n) => n.id)).toEqual(['load-1', 'flip-1', 'train-1', 'load-2', 'flip-2']);
    expect([...editorStore.getState().selectedNodes]).toEqual(['load-2', 'flip-2']);
    const text = copySelectionText()!;
    loadDocument({ format: 'dlflow', version: 1, nodes: [], edges: [] });
    expect(pasteText(text)).toBe(true);
    expect(currentDocument().nodes.map((n) => n.id)).toEqual(['load-1', 'flip-1']);
    expect(currentDocument().edges).toHaveLength(1);
    expect(pasteText('not json')).toBe(false);
  });
});

describe('documents', () => {
  it('opens a document, saves it (clean), and an edit makes it dirty again', async () => {
    const doc = sampleDoc();
    fake.handlers.openDocument = ({ path }) => ({ path, document: doc, diagnostics: [] });
    fake.handlers.saveDocument = ({ path }) => ({ path });
    expect(await openPath('/data/p.dlflow', { skipConfirm: true })).toBe(true);
    expect(editorStore.getState().path).toBe('/data/p.dlflow');
    expect(dirty()).toBe(false);
    setNodeParam('train-1', 'epochs', 9);
    expect(dirty()).toBe(true);
    expect(await saveDocument()).toBe(true);
    expect(dirty()).toBe(false);
    const saved = fake.calls.find((c) => c.method === 'saveDocument')!.args;
    expect(saved.path).toBe('/data/p.dlflow');
    expect(saved.fromPath).toBe('/data/p.dlflow');
    expect((saved.document as DlflowDocument).nodes[2].params.epochs).toBe(9);
  });

  it('a document from a newer dlflow is not opened; the reason is shown', () => {
    loadDocument(sampleDoc(), { path: '/keep.dlflow' });
    const ok = acceptOpened({
      path: '/new.dlflow',
      document: { format: 'dlflow', version: 1, nodes: [], edges: [] },
      diagnostics: [{ severity: 'error', code: 'newer-version', message: 'written by format version 7; this dlflow reads up to 1' }],
    });
    expect(ok).toBe(false);
    expect(editorStore.getState().path).toBe('/keep.dlflow');
    const dialog = uiStore.getState().dialog;
    expect(dialog?.kind).toBe('message');
    if (dialog?.kind === 'message') expect(dialog.body).toMatch(/newer dlflow.*version 7/);
  });

  it('when the engine refuses a file (newer format), the editor keeps its document and says why', async () => {
    loadDocument(sampleDoc(), { path: '/keep.dlflow' });
    fake.handlers.openDocument = () => {
      throw new Error('written by a newer dlflow (document version 99; this dlflow reads up to version 1)');
    };
    expect(await openPath('/new.dlflow', { skipConfirm: true })).toBe(false);
    expect(editorStore.getState().path).toBe('/keep.dlflow');
    const dialog = uiStore.getState().dialog;
    expect(dialog).toMatchObject({ kind: 'message', title: 'Cannot open /new.dlflow' });
    if (dialog?.kind === 'message') expect(dialog.body).toMatch(/not opened.*version 99/s);
  });

  it('unknown node types open as placeholders with a notice', () => {
    const doc = sampleDoc();
    doc.nodes.push({ id: 'x', type: 'gone:node', params: { a: 1 }, position: { x: 0, y: 0 } });
    expect(acceptOpened({ path: '/p.dlflow', document: doc, diagnostics: [{ severity: 'error', code: 'unknown-node-type', message: 'unknown', nodeId: 'x' }] })).toBe(true);
    expect(currentDocument().nodes.at(-1)).toEqual({ id: 'x', type: 'gone:node', params: { a: 1 }, position: { x: 0, y: 0 } });
    expect(toasts()[0]).toMatch(/placeholder/);
  });

  it('save without a path asks for one; a failed save keeps the document dirty and says why', async () => {
    addNodeOfType('test:data:load', { x: 0, y: 0 });
    expect(await saveDocument()).toBe(false);
    expect(uiStore.getState().dialog?.kind).toBe('save-as');
    fake.handlers.saveDocument = () => {
      throw new Error('path /etc is outside the allowed folders');
    };
    expect(await saveTo('/etc/x.dlflow')).toBe(false);
    expect(dirty()).toBe(true);
    expect(toasts().at(-1)).toMatch(/outside the allowed folders/);
  });
});

describe('running', () => {
  it('runs with targets and baseDir, folds events into node statuses, and ends with the result', async () => {
    loadDocument(sampleDoc(), { path: '/work/p/a.dlflow' });
    let finish!: (r: RunResult) => void;
    fake.handlers.run = () => new Promise<RunResult>((r) => (finish = r));
    setSelection(['flip-1']);
    const running = runToSelected();
    await new Promise((r) => setTimeout(r, 0));
    const { args } = fake.calls.find((c) => c.method === 'run')!;
    expect(args.options).toEqual({ targets: ['flip-1'], baseDir: '/work/p' });
    const runId: string = args.runId;
    const events: EngineEvent[] = [
      { type: 'run-started', runId, nodeIds: ['load-1', 'flip-1'], backend: 'cpu', time: 0 },
      { type: 'nodes-cached', runId, nodeIds: ['load-1'], fromDisk: [] },
      { type: 'node-started', runId, nodeId: 'flip-1', time: 0 },
    ];
    for (const e of events) enqueueRunEvent(e);
    flushRunEvents();
    expect(runStore.getState().nodes['load-1'].status).toBe('cached');
    expect(runStore.getState().nodes['flip-1'].status).toBe('running');
    fake.handlers.cancel = () => ({ cancelled: true });
    await cancelRun();
    expect(fake.calls.at(-1)).toEqual({ method: 'cancel', args: { runId } });
    enqueueRunEvent({ type: 'run-finished', runId, status: 'cancelled', seconds: 1, nodes: { 'load-1': 'cached', 'flip-1': 'cancelled' } });
    finish({ runId, status: 'cancelled', seconds: 1 });
    await running;
    expect(runStore.getState().phase).toBe('cancelled');
    expect(runStore.getState().nodes['flip-1'].status).toBe('cancelled');
  });

  it('a run call that fails (transport down) ends the run with the message', async () => {
    loadDocument(sampleDoc());
    fake.handlers.run = () => {
      throw new Error('connection to the dlflow server was lost during run');
    };
    await runAll();
    expect(runStore.getState().phase).toBe('failed');
    expect(runStore.getState().error).toMatch(/connection .* lost/);
    expect(toasts().at(-1)).toMatch(/Run failed/);
  });

  it('a run whose call drops with the connection keeps following the run; a cancel that finds no run ends it', async () => {
    loadDocument(sampleDoc());
    fake.handlers.run = () => {
      throw Object.assign(new Error('connection to the dlflow server was lost during run'), { code: 'disconnected' });
    };
    await runAll();
    const runId = runStore.getState().runId!;
    expect(runStore.getState().phase).toBe('starting');
    expect(toasts().at(-1)).toMatch(/continues on the server/);
    // Events after the reconnect still land on the run.
    enqueueRunEvent({ type: 'run-started', runId, nodeIds: ['load-1'], backend: 'cpu', time: 0 });
    enqueueRunEvent({ type: 'node-started', runId, nodeId: 'load-1', time: 0 });
    flushRunEvents();
    expect(runStore.getState().phase).toBe('running');
    expect(runStore.getState().nodes['load-1'].status).toBe('running');
    // It ended while the connection was down: cancelling finds nothing and the UI stops waiting.
    fake.handlers.cancel = () => ({ cancelled: false });
    await cancelRun();
    expect(runStore.getState().phase).toBe('failed');
    expect(runStore.getState().error).toMatch(/ended while the connection was lost/);
  });

  it('after a reconnect, asks the host about a run whose reply was lost: ended → its outcome; unknown → says so', async () => {
    loadDocument(sampleDoc());
    fake.handlers.run = () => {
      throw Object.assign(new Error('lost'), { code: 'disconnected' });
    };
    await runAll();
    const runId = runStore.getState().runId!;
    fake.handlers.runStatus = () => ({ known: true, active: true });
    await resyncDetachedRun();
    expect(runStore.getState().phase).toBe('starting');
    fake.handlers.runStatus = (args: { runId: string }) => ({ known: true, active: false, result: { runId: args.runId, status: 'done', seconds: 3 } });
    await resyncDetachedRun();
    expect(runStore.getState()).toMatchObject({ runId, phase: 'done', seconds: 3 });
    // Answered once: later reconnects do not ask again.
    const asked = fake.calls.filter((c) => c.method === 'runStatus').length;
    await resyncDetachedRun();
    expect(fake.calls.filter((c) => c.method === 'runStatus').length).toBe(asked);

    await runAll();
    fake.handlers.runStatus = () => ({ known: false, active: false });
    await resyncDetachedRun();
    expect(runStore.getState().phase).toBe('failed');
    expect(runStore.getState().error).toMatch(/outcome is unknown/);
  });

  it('asks before running code the host does not trust, and records trust on "Trust and run"', async () => {
    loadDocument(sampleDoc(), { path: '/work/p/a.dlflow' });
    const hash = 'ab'.repeat(32);
    let trusted = false;
    fake.handlers.codeTrust = () => ({ hash, trusted, codeNodes: ['flip-1'] });
    fake.handlers.trustCode = (args: { hash: string }) => {
      trusted = args.hash === hash;
      return { hash, trusted };
    };
    fake.handlers.run = (args: { runId: string }) => ({ runId: args.runId, status: 'done', seconds: 0 });
    await runAll();
    expect(uiStore.getState().dialog).toEqual({ kind: 'trust-code', hash, codeNodes: ['flip-1'] });
    expect(fake.calls.some((c) => c.method === 'run')).toBe(false);
    await trustAndRun(hash);
    expect(fake.calls.find((c) => c.method === 'trustCode')?.args).toEqual({ hash, path: '/work/p/a.dlflow' });
    expect(uiStore.getState().dialog).toBeUndefined();
    const run = fake.calls.find((c) => c.method === 'run')!;
    // The UI never claims allowCode: the host decides it from its trust store.
    expect(run.args.options.allowCode).toBeUndefined();
    expect(runStore.getState().phase).toBe('done');
  });

  it('refuses to run an empty pipeline', async () => {
    await runAll();
    expect(fake.calls.some((c) => c.method === 'run')).toBe(false);
    expect(toasts()[0]).toMatch(/Nothing to run/);
  });
});

describe('start-up', () => {
  it('opens the host’s initial file and offers the recovery copy even though loading clears it', async () => {
    const { startEngine } = await import('../../renderer/src/hooks/useEngineStartup.ts');
    const { writeRecovery, clearRecovery } = await import('../../renderer/src/model/recent.ts');
    const m = new Map<string, string>();
    const storage = { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) };
    (globalThis as { localStorage?: unknown }).localStorage = storage;
    try {
      const unsaved = sampleDoc();
      unsaved.nodes[0].params.count = 99;
      writeRecovery(storage, { path: '/p.dlflow', time: 1, document: unsaved });
      // As useAutosave does: a clean document clears the recovery copy.
      const off = editorStore.subscribe(() => {
        if (!selectDirty(editorStore.getState())) clearRecovery(storage);
      });
      fake.handlers.listNodes = () => catalog;
      fake.handlers.info = () => ({ version: '0', node: '20', tfjs: '4', backend: { name: 'cpu', skipped: [], forced: false }, cacheDir: '', cacheBytes: 0 });
      fake.handlers.openDocument = ({ path }) => ({ path, document: sampleDoc(), diagnostics: [] });
      fake.initialFile = async () => '/p.dlflow';
      const stop = await startEngine();
      off();
      stop();
      expect(editorStore.getState().path).toBe('/p.dlflow');
      const dialog = uiStore.getState().dialog;
      expect(dialog?.kind).toBe('recover');
      if (dialog?.kind === 'recover') expect(dialog.copy.document.nodes[0].params.count).toBe(99);
    } finally {
      delete (globalThis as { localStorage?: unknown }).localStorage;
    }
  });
});
