/** Global keyboard shortcuts (skipped while typing in a field or in Monaco). */
import { useReactFlow } from '@xyflow/react';
import { useEffect } from 'react';
import { saveDocument } from '../actions/documentActions.ts';
import { deleteSelection, duplicateSelection, groupSelection, selectAll, ungroupSelection } from '../actions/editActions.ts';
import { cancelRun, runAll, runToSelected } from '../actions/runActions.ts';
import { redoEdit, undoEdit } from '../stores/editorStore.ts';
import { closeDialog, openDialog, setUi, uiStore } from '../stores/uiStore.ts';

export const SHORTCUTS: { keys: string; description: string }[] = [
  { keys: 'Ctrl+Z', description: 'Undo' },
  { keys: 'Ctrl+Y / Ctrl+Shift+Z', description: 'Redo' },
  { keys: 'Ctrl+C / Ctrl+V', description: 'Copy / paste the selected nodes (as JSON, works across documents)' },
  { keys: 'Ctrl+D', description: 'Duplicate the selection' },
  { keys: 'Ctrl+G', description: 'Group the selected nodes in a labelled frame (drag the frame to move them; double-click its label to rename)' },
  { keys: 'Ctrl+Shift+G', description: 'Ungroup the frames of the selected nodes' },
  { keys: 'Delete / Backspace', description: 'Delete the selected nodes and wires' },
  { keys: 'Ctrl+A', description: 'Select everything' },
  { keys: 'Ctrl+S', description: 'Save' },
  { keys: 'Ctrl+Shift+S', description: 'Save as…' },
  { keys: 'Ctrl+O', description: 'Open…' },
  { keys: 'Ctrl+Enter', description: 'Run all' },
  { keys: 'Ctrl+Shift+Enter', description: 'Run up to the selected node(s)' },
  { keys: 'Escape', description: 'Close a dialog, or cancel the run' },
  { keys: 'F', description: 'Fit the pipeline in view' },
  { keys: 'Ctrl+J', description: 'Toggle the raw JSON view' },
  { keys: 'Double-click canvas', description: 'Quick-add a node' },
  { keys: 'Right-click', description: 'Node menu (run to here, duplicate, copy, delete) or canvas menu (add, paste here)' },
  { keys: 'Shift+drag', description: 'Box-select' },
  { keys: 'Ctrl+click', description: 'Add to / remove from the selection' },
  { keys: '?', description: 'This help' },
];

/** True when keys belong to a text field (inputs, textareas, Monaco), not to the canvas. */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || typeof el.closest !== 'function') return false;
  if (el.isContentEditable) return true;
  if (el.closest('.monaco-editor')) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (el as HTMLInputElement).type;
    return !['checkbox', 'radio', 'range', 'button'].includes(type);
  }
  return false;
}

export function useKeyboardShortcuts(): void {
  const rf = useReactFlow();
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      const dialog = uiStore.getState().dialog;
      if (e.key === 'Escape') {
        if (dialog) closeDialog();
        else void cancelRun();
        return;
      }
      // Save and run work even from a text field.
      if (mod && key === 's') {
        e.preventDefault();
        if (e.shiftKey) openDialog({ kind: 'save-as' });
        else void saveDocument();
        return;
      }
      if (mod && e.key === 'Enter') {
        e.preventDefault();
        void (e.shiftKey ? runToSelected() : runAll());
        return;
      }
      if (mod && key === 'o') {
        e.preventDefault();
        openDialog({ kind: 'open' });
        return;
      }
      if (mod && key === 'j') {
        e.preventDefault();
        setUi({ centre: uiStore.getState().centre === 'json' ? 'canvas' : 'json' });
        return;
      }
      if (dialog || isTyping(e.target)) return;
      if (mod && key === 'z') {
        e.preventDefault();
        if (e.shiftKey) redoEdit();
        else undoEdit();
      } else if (mod && key === 'y') {
        e.preventDefault();
        redoEdit();
      } else if (mod && key === 'g') {
        e.preventDefault();
        if (e.shiftKey) ungroupSelection();
        else groupSelection();
      } else if (mod && key === 'd') {
        e.preventDefault();
        duplicateSelection();
      } else if (mod && key === 'a') {
        e.preventDefault();
        selectAll();
      } else if (!mod && (e.key === 'Delete' || e.key === 'Backspace')) {
        e.preventDefault();
        deleteSelection();
      } else if (!mod && !e.altKey && key === 'f') {
        void rf.fitView({ padding: 0.2, duration: 200 });
      } else if (e.key === '?') {
        openDialog({ kind: 'help' });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [rf]);
}
