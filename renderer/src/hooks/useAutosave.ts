/** Keeps a recovery copy of unsaved work in localStorage, offered back after a crash or reload. */
import { useEffect } from 'react';
import { clearRecovery, writeRecovery } from '../model/recent.ts';
import { editorStore, selectDirty } from '../stores/editorStore.ts';

export const AUTOSAVE_MS = 1500;

export function useAutosave(): void {
  useEffect(() => {
    if (typeof localStorage === 'undefined') return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last = editorStore.getState().history.present;
    const write = () => {
      timer = undefined;
      const s = editorStore.getState();
      if (selectDirty(s)) writeRecovery(localStorage, { path: s.path, time: Date.now(), document: s.history.present });
      else clearRecovery(localStorage);
    };
    const off = editorStore.subscribe(() => {
      const s = editorStore.getState();
      if (s.history.present === last) return;
      last = s.history.present;
      if (!selectDirty(s)) {
        clearTimeout(timer);
        timer = undefined;
        clearRecovery(localStorage);
        return;
      }
      timer ??= setTimeout(write, AUTOSAVE_MS);
    });
    // Write pending work when the page goes away (reload, tab close).
    const flush = () => {
      if (timer !== undefined) {
        clearTimeout(timer);
        write();
      }
    };
    window.addEventListener('pagehide', flush);
    return () => {
      off();
      clearTimeout(timer);
      window.removeEventListener('pagehide', flush);
    };
  }, []);
}
