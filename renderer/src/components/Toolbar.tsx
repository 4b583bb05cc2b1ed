/** File, run, edit and view commands. */
import { useReactFlow } from '@xyflow/react';
import { newDocument, saveDocument } from '../actions/documentActions.ts';
import { alignSelection, groupSelection } from '../actions/editActions.ts';
import { cancelRun, runAll, runToSelected } from '../actions/runActions.ts';
import type { AlignMode, NodeBox } from '../model/documentOps.ts';
import { isRunActive } from '../model/runState.ts';
import { editorStore, redoEdit, undoEdit, useEditorStore } from '../stores/editorStore.ts';
import { useRunStore } from '../stores/runStore.ts';
import { openDialog, setUi, useUiStore } from '../stores/uiStore.ts';

const ALIGN: { mode: AlignMode; label: string }[] = [
  { mode: 'left', label: 'Align left' },
  { mode: 'center-x', label: 'Align centres (vertical line)' },
  { mode: 'right', label: 'Align right' },
  { mode: 'top', label: 'Align top' },
  { mode: 'center-y', label: 'Align middles (horizontal line)' },
  { mode: 'bottom', label: 'Align bottom' },
  { mode: 'distribute-x', label: 'Distribute horizontally' },
  { mode: 'distribute-y', label: 'Distribute vertically' },
];

export function Toolbar() {
  const rf = useReactFlow();
  const canUndo = useEditorStore((s) => s.history.past.length > 0);
  const canRedo = useEditorStore((s) => s.history.future.length > 0);
  const selectedCount = useEditorStore((s) => s.selectedNodes.size);
  const active = useRunStore(isRunActive);
  const centre = useUiStore((s) => s.centre);

  const align = (mode: AlignMode) => {
    const boxes: NodeBox[] = [];
    for (const id of editorStore.getState().selectedNodes) {
      const n = rf.getInternalNode(id);
      if (!n) continue;
      boxes.push({ id, x: n.internals.positionAbsolute.x, y: n.internals.positionAbsolute.y, width: n.measured.width ?? 180, height: n.measured.height ?? 60 });
    }
    alignSelection(mode, boxes);
  };

  return (
    <div className="dl-toolbar" role="toolbar">
      <div className="dl-brand">dlflow</div>
      <div className="dl-tool-group">
        <button type="button" className="dl-btn" data-testid="new-button" onClick={newDocument} title="New pipeline">
          New
        </button>
        <button type="button" className="dl-btn" data-testid="open-button" onClick={() => openDialog({ kind: 'open' })} title="Open… (Ctrl+O)">
          Open
        </button>
        <button type="button" className="dl-btn" data-testid="save-button" onClick={() => void saveDocument()} title="Save (Ctrl+S)">
          Save
        </button>
        <button type="button" className="dl-btn" data-testid="save-as-button" onClick={() => openDialog({ kind: 'save-as' })} title="Save as… (Ctrl+Shift+S)">
          Save As
        </button>
      </div>
      <div className="dl-tool-group">
        <button type="button" className="dl-btn primary" data-testid="run-button" disabled={active} onClick={() => void runAll()} title="Run all (Ctrl+Enter)">
          ▶ Run all
        </button>
        <button
          type="button"
          className="dl-btn"
          data-testid="run-selected-button"
          disabled={active || selectedCount === 0}
          onClick={() => void runToSelected()}
          title="Run the selected node(s) and what they need (Ctrl+Shift+Enter)"
        >
          ▶ Run to selected
        </button>
        <button type="button" className="dl-btn danger" data-testid="cancel-button" disabled={!active} onClick={() => void cancelRun()} title="Cancel the run (Esc)">
          ■ Cancel
        </button>
      </div>
      <div className="dl-tool-group">
        <button type="button" className="dl-btn" data-testid="undo-button" disabled={!canUndo} onClick={undoEdit} title="Undo (Ctrl+Z)">
          ↶ Undo
        </button>
        <button type="button" className="dl-btn" data-testid="redo-button" disabled={!canRedo} onClick={redoEdit} title="Redo (Ctrl+Y / Ctrl+Shift+Z)">
          ↷ Redo
        </button>
        <select
          className="dl-input dl-select small"
          data-testid="align-select"
          value=""
          disabled={selectedCount < 2}
          title="Align the selected nodes"
          onChange={(e) => {
            if (e.target.value) align(e.target.value as AlignMode);
          }}
        >
          <option value="">Align…</option>
          {ALIGN.map((a) => (
            <option key={a.mode} value={a.mode}>
              {a.label}
            </option>
          ))}
        </select>
        <button type="button" className="dl-btn" data-testid="group-button" disabled={selectedCount < 1} onClick={() => void groupSelection()} title="Group the selected nodes in a labelled frame (Ctrl+G)">
          ▢ Group
        </button>
      </div>
      <div className="dl-tool-group">
        <button type="button" className="dl-btn" data-testid="fit-button" onClick={() => void rf.fitView({ padding: 0.2, duration: 200 })} title="Fit view (F)">
          Fit
        </button>
        <button
          type="button"
          className={`dl-btn${centre === 'json' ? ' active' : ''}`}
          data-testid="json-toggle"
          onClick={() => setUi({ centre: centre === 'json' ? 'canvas' : 'json' })}
          title="Show the raw .dlflow JSON (Ctrl+J)"
        >
          {'{ }'} JSON
        </button>
        <button type="button" className="dl-btn" data-testid="help-button" onClick={() => openDialog({ kind: 'help' })} title="Keyboard shortcuts (?)">
          ?
        </button>
      </div>
    </div>
  );
}
