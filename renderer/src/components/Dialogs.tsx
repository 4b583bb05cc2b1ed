/** Modal dialogs: open, save as, help, quick-add, large preview, recovery, code trust, messages. */
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { openPath, restoreRecovery, saveTo } from '../actions/documentActions.ts';
import { addNodeOfType, connectWire, copySelectionText, deleteSelection, duplicateSelection, groupSelection, lastCopiedText, pasteText, selectAll, ungroupSelection } from '../actions/editActions.ts';
import { runToSelected, trustAndRun } from '../actions/runActions.ts';
import { SHORTCUTS } from '../hooks/useKeyboardShortcuts.ts';
import { compatibleNodes, matchesSearch } from '../model/catalog.ts';
import { clearRecovery, readRecent } from '../model/recent.ts';
import { useCatalogStore } from '../stores/catalogStore.ts';
import { editorStore, useEditorStore } from '../stores/editorStore.ts';
import { useRunStore } from '../stores/runStore.ts';
import { closeDialog, openDialog, uiStore, useUiStore, type Dialog, type QuickAddRequest } from '../stores/uiStore.ts';
import { PreviewView } from './previews/PreviewViews.tsx';
import { firstLine } from './Palette.tsx';

function Modal({ title, children, testId, wide }: { title: string; children: ReactNode; testId: string; wide?: boolean }) {
  return (
    <div className="dl-modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && closeDialog()}>
      <div className={`dl-modal${wide ? ' wide' : ''}`} role="dialog" aria-label={title} data-testid={testId}>
        <header>
          <h2>{title}</h2>
          <button type="button" className="dl-btn small" onClick={closeDialog} aria-label="Close" data-testid="dialog-close">
            ✕
          </button>
        </header>
        <div className="dl-modal-body">{children}</div>
      </div>
    </div>
  );
}

function TrustCodeDialog({ dialog }: { dialog: Extract<Dialog, { kind: 'trust-code' }> }) {
  const path = useEditorStore((s) => s.path);
  const doc = useEditorStore((s) => s.history.present);
  const index = useCatalogStore((s) => s.index);
  const [busy, setBusy] = useState(false);
  // The code that would run, so the user can read it before trusting it.
  const snippets = dialog.codeNodes.flatMap((id) => {
    const node = doc.nodes.find((n) => n.id === id);
    const schema = node && index.byId.get(node.type);
    if (!node || !schema) return [];
    return Object.entries(schema.params)
      .filter(([, p]) => p.kind === 'code')
      .map(([key]) => ({ id, key, code: String(node.params[key] ?? '') }));
  });
  return (
    <Modal title="Run code from this file?" testId="trust-dialog">
      <p>
        This file contains code that will run on your machine, with your rights: it can read, change and send your files. Only run it
        if you trust where {path ? <code>{path}</code> : 'this document'} came from.
      </p>
      {snippets.map((sn) => (
        <div key={`${sn.id}.${sn.key}`}>
          <h3>
            {sn.id} · {sn.key}
          </h3>
          <pre className="dl-message dl-trust-code" data-testid={`trust-code-${sn.id}`}>
            {sn.code}
          </pre>
        </div>
      ))}
      <p className="dl-muted">Trust is remembered for exactly this code; if the code changes you will be asked again.</p>
      <div className="dl-modal-actions">
        <button
          type="button"
          className="dl-btn danger"
          data-testid="trust-accept"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            void trustAndRun(dialog.hash, dialog.targets).finally(() => setBusy(false));
          }}
        >
          Trust and run
        </button>
        <button type="button" className="dl-btn" data-testid="trust-cancel" autoFocus onClick={closeDialog}>
          Cancel
        </button>
      </div>
    </Modal>
  );
}

function recentFiles(): string[] {
  return typeof localStorage === 'undefined' ? [] : readRecent(localStorage);
}

function PathForm({ initial, action, onSubmit, testId, dialogKind }: {
  initial: string;
  action: string;
  onSubmit(path: string): Promise<boolean>;
  testId: string;
  dialogKind: Dialog['kind'];
}) {
  const [path, setPath] = useState(initial);
  const [busy, setBusy] = useState(false);
  const recent = useMemo(recentFiles, []);
  const submit = async (p: string) => {
    setBusy(true);
    const ok = await onSubmit(p);
    setBusy(false);
    // On failure onSubmit may have replaced this dialog with one that explains why.
    if (ok && uiStore.getState().dialog?.kind === dialogKind) closeDialog();
  };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void submit(path);
      }}
    >
      <label className="dl-param">
        <span className="dl-param-label">Path of the .dlflow file (on the machine running the engine)</span>
        <input className="dl-input" data-testid={testId} autoFocus value={path} onChange={(e) => setPath(e.target.value)} placeholder="samples/hello.dlflow" />
      </label>
      <div className="dl-modal-actions">
        <button type="submit" className="dl-btn primary" disabled={busy || path.trim() === ''} data-testid={`${testId}-submit`}>
          {action}
        </button>
      </div>
      {recent.length > 0 && (
        <>
          <h3>Recent</h3>
          <ul className="dl-recent">
            {recent.map((r) => (
              <li key={r}>
                <button type="button" className="dl-link" onClick={() => setPath(r)} onDoubleClick={() => void submit(r)}>
                  {r}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </form>
  );
}

function QuickAdd({ request }: { request: QuickAddRequest }) {
  const index = useCatalogStore((s) => s.index);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const listRef = useRef<HTMLUListElement>(null);
  const options = useMemo(() => {
    const base = request.from ? compatibleNodes(index, request.from.portType, request.from.side) : index.catalog.nodes.map((schema) => ({ schema, port: '' }));
    return base.filter((o) => matchesSearch(o.schema, query)).slice(0, 50);
  }, [index, request, query]);
  useEffect(() => setActive(0), [query]);

  const pick = (i: number) => {
    const o = options[i];
    if (!o) return;
    closeDialog();
    const id = addNodeOfType(o.schema.id, { x: request.flow.x, y: request.flow.y - 20 });
    if (!id || !request.from) return;
    const f = request.from;
    if (f.side === 'source') connectWire({ source: f.nodeId, sourceHandle: f.handleId, target: id, targetHandle: o.port });
    else connectWire({ source: id, sourceHandle: o.port, target: f.nodeId, targetHandle: f.handleId });
  };

  const left = Math.min(request.screen.x, window.innerWidth - 320);
  const top = Math.min(request.screen.y, window.innerHeight - 360);
  return (
    <div className="dl-modal-backdrop clear" onMouseDown={(e) => e.target === e.currentTarget && closeDialog()}>
      <div className="dl-quickadd" style={{ left, top }} data-testid="quick-add" role="dialog" aria-label="Add node">
        <input
          className="dl-input"
          autoFocus
          data-testid="quick-add-search"
          placeholder={request.from ? `Nodes taking ${index.portTypes.get(request.from.portType)?.label ?? request.from.portType}…` : 'Add node…'}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, options.length - 1));
            else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
            else if (e.key === 'Enter') pick(active);
            else if (e.key === 'Escape') closeDialog();
            else return;
            e.preventDefault();
          }}
        />
        <ul ref={listRef}>
          {options.map((o, i) => (
            <li
              key={o.schema.id}
              className={i === active ? 'active' : ''}
              data-testid={`quick-add-item-${o.schema.id}`}
              onMouseEnter={() => setActive(i)}
              onClick={() => pick(i)}
            >
              <strong>{o.schema.name}</strong> <span className="dl-muted">{o.schema.category}</span>
              <div className="dl-palette-desc">{firstLine(o.schema.description)}</div>
            </li>
          ))}
          {options.length === 0 && <li className="dl-muted">No node type fits.</li>}
        </ul>
      </div>
    </div>
  );
}

function ContextMenu({ dialog }: { dialog: Extract<Dialog, { kind: 'context-menu' }> }) {
  const act = (fn: () => void) => () => {
    closeDialog();
    fn();
  };
  const items: { label: string; testId: string; run: () => void; disabled?: boolean }[] = dialog.nodeId
    ? [
        { label: 'Run to here', testId: 'menu-run-to', run: () => void runToSelected() },
        { label: 'Duplicate (Ctrl+D)', testId: 'menu-duplicate', run: duplicateSelection },
        { label: 'Copy (Ctrl+C)', testId: 'menu-copy', run: () => void copySelectionText() },
        { label: 'Group (Ctrl+G)', testId: 'menu-group', run: () => void groupSelection() },
        { label: 'Ungroup (Ctrl+Shift+G)', testId: 'menu-ungroup', run: () => ungroupSelection(), disabled: !editorStore.getState().history.present.groups?.length },
        { label: 'Delete (Del)', testId: 'menu-delete', run: deleteSelection },
      ]
    : [
        { label: 'Add node…', testId: 'menu-add', run: () => openDialog({ kind: 'quick-add', request: { screen: dialog.screen, flow: dialog.flow } }) },
        { label: 'Paste here', testId: 'menu-paste', run: () => void pasteText(lastCopiedText() ?? '', dialog.flow), disabled: !lastCopiedText() },
        { label: 'Select all (Ctrl+A)', testId: 'menu-select-all', run: selectAll },
      ];
  return (
    <div className="dl-modal-backdrop clear" onMouseDown={(e) => e.target === e.currentTarget && closeDialog()} onContextMenu={(e) => e.preventDefault()}>
      <ul className="dl-context-menu" style={{ left: Math.min(dialog.screen.x, window.innerWidth - 200), top: Math.min(dialog.screen.y, window.innerHeight - 160) }} role="menu" data-testid="context-menu">
        {items.map((i) => (
          <li key={i.testId}>
            <button type="button" role="menuitem" data-testid={i.testId} disabled={i.disabled} onClick={act(i.run)}>
              {i.label}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function LargePreview({ nodeId, kind }: { nodeId: string; kind: Extract<Dialog, { kind: 'preview' }>['preview'] }) {
  const payload = useRunStore((s) => s.nodes[nodeId]?.previews[kind]);
  const label = useEditorStore((s) => s.history.present.nodes.find((n) => n.id === nodeId)?.label ?? nodeId);
  return (
    <Modal title={`${label} — ${payload?.title ?? kind}`} testId="preview-modal" wide>
      {payload ? <PreviewView payload={payload} nodeId={nodeId} large /> : <div className="dl-muted">No preview.</div>}
    </Modal>
  );
}

export function Dialogs() {
  const dialog = useUiStore((s) => s.dialog);
  if (!dialog) return null;
  switch (dialog.kind) {
    case 'open':
      return (
        <Modal title="Open pipeline" testId="open-dialog">
          <PathForm initial={editorStore.getState().path ?? ''} action="Open" onSubmit={(p) => openPath(p)} testId="open-path" dialogKind="open" />
        </Modal>
      );
    case 'save-as':
      return (
        <Modal title="Save pipeline as" testId="save-as-dialog">
          <PathForm initial={editorStore.getState().path ?? 'untitled.dlflow'} action="Save" onSubmit={(p) => saveTo(p)} testId="save-path" dialogKind="save-as" />
        </Modal>
      );
    case 'help':
      return (
        <Modal title="Keyboard shortcuts and tips" testId="help-dialog">
          <table className="dl-shortcuts">
            <tbody>
              {SHORTCUTS.map((s) => (
                <tr key={s.keys}>
                  <td>
                    <kbd>{s.keys}</kbd>
                  </td>
                  <td>{s.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="dl-muted">
            Drag a node from the palette or double-click the canvas to add one. Drag from an output to an input to wire them; drop a wire on
            empty canvas to pick a node that accepts it. Shift-drag to box-select; Ctrl-click to add to the selection. Click a preview to enlarge it.
          </p>
        </Modal>
      );
    case 'quick-add':
      return <QuickAdd request={dialog.request} />;
    case 'preview':
      return <LargePreview nodeId={dialog.nodeId} kind={dialog.preview} />;
    case 'recover':
      return (
        <Modal title="Restore unsaved work?" testId="recover-dialog">
          <p>
            dlflow found unsaved changes{dialog.copy.path ? ` to ${dialog.copy.path}` : ''} from {new Date(dialog.copy.time).toLocaleString()} ({dialog.copy.document.nodes.length} nodes),
            kept when the editor last closed without saving.
          </p>
          <div className="dl-modal-actions">
            <button
              type="button"
              className="dl-btn primary"
              data-testid="recover-restore"
              onClick={() => {
                restoreRecovery(dialog.copy);
                closeDialog();
              }}
            >
              Restore
            </button>
            <button
              type="button"
              className="dl-btn"
              data-testid="recover-discard"
              onClick={() => {
                if (typeof localStorage !== 'undefined') clearRecovery(localStorage);
                closeDialog();
              }}
            >
              Discard
            </button>
          </div>
        </Modal>
      );
    case 'context-menu':
      return <ContextMenu dialog={dialog} />;
    case 'trust-code':
      return <TrustCodeDialog dialog={dialog} />;
    case 'message':
      return (
        <Modal title={dialog.title} testId="message-dialog">
          <pre className="dl-message">{dialog.body}</pre>
          <div className="dl-modal-actions">
            <button type="button" className="dl-btn primary" onClick={closeDialog}>
              OK
            </button>
          </div>
        </Modal>
      );
    default: {
      const never: never = dialog;
      return String((never as Dialog).kind);
    }
  }
}
