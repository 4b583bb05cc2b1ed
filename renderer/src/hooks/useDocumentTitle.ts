/** The window/tab title names the file and shows unsaved changes, like a desktop editor. */
import { useEffect } from 'react';
import { basename } from '../model/recent.ts';
import { selectDirty, useEditorStore } from '../stores/editorStore.ts';

export function useDocumentTitle(): void {
  const path = useEditorStore((s) => s.path);
  const dirty = useEditorStore(selectDirty);
  useEffect(() => {
    document.title = `${dirty ? '● ' : ''}${path ? basename(path) : 'untitled.dlflow'} — dlflow`;
  }, [path, dirty]);
}
