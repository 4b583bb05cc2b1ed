/**
 * Copy/paste through the browser's copy and paste events: they carry the system clipboard
 * without permission prompts, so nodes paste across documents and windows. A copy kept in
 * memory covers environments where clipboardData is unavailable.
 */
import { useEffect } from 'react';
import { copySelectionText, deleteSelection, lastCopiedText, pasteText } from '../actions/editActions.ts';
import { uiStore } from '../stores/uiStore.ts';
import { isTyping } from './useKeyboardShortcuts.ts';

export function useClipboard(): void {
  useEffect(() => {
    const onCopy = (e: ClipboardEvent) => {
      if (isTyping(e.target) || uiStore.getState().dialog) return;
      const text = copySelectionText();
      if (!text) return;
      e.clipboardData?.setData('text/plain', text);
      e.preventDefault();
    };
    const onCut = (e: ClipboardEvent) => {
      if (isTyping(e.target) || uiStore.getState().dialog || !copySelectionText()) return;
      onCopy(e);
      deleteSelection();
    };
    const onPaste = (e: ClipboardEvent) => {
      if (isTyping(e.target) || uiStore.getState().dialog) return;
      const text = e.clipboardData?.getData('text/plain') || lastCopiedText();
      if (text && pasteText(text)) e.preventDefault();
    };
    document.addEventListener('copy', onCopy);
    document.addEventListener('cut', onCut);
    document.addEventListener('paste', onPaste);
    return () => {
      document.removeEventListener('copy', onCopy);
      document.removeEventListener('cut', onCut);
      document.removeEventListener('paste', onPaste);
    };
  }, []);
}
