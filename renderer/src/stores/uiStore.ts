/** Transient UI state: which dialog is open, the centre view, quick-add placement, settings. */
import type { PreviewKind } from '../../../main/protocol/index.ts';
import type { RecoveryCopy } from '../model/recent.ts';
import { createStore, useStoreSelector } from './store.ts';

/** Where a quick-add menu opened, and (when a wire was dropped on empty canvas) what it must accept. */
export interface QuickAddRequest {
  screen: { x: number; y: number };
  flow: { x: number; y: number };
  from?: { nodeId: string; handleId: string; side: 'source' | 'target'; portType: string };
}

export type Dialog =
  | { kind: 'open' }
  | { kind: 'save-as' }
  | { kind: 'help' }
  | { kind: 'quick-add'; request: QuickAddRequest }
  | { kind: 'preview'; nodeId: string; preview: PreviewKind }
  | { kind: 'recover'; copy: RecoveryCopy }
  | { kind: 'message'; title: string; body: string }
  /** Asked before running a document whose code is not trusted yet; accepting records trust and runs. */
  | { kind: 'trust-code'; hash: string; codeNodes: string[]; targets?: string[] }
  | { kind: 'context-menu'; screen: { x: number; y: number }; flow: { x: number; y: number }; nodeId?: string };

export interface UiState {
  dialog?: Dialog;
  centre: 'canvas' | 'json';
  showLog: boolean;
}

export const uiStore = createStore<UiState>({ centre: 'canvas', showLog: true });

export function useUiStore<S>(selector: (s: UiState) => S): S {
  return useStoreSelector(uiStore, selector);
}

export function openDialog(dialog: Dialog): void {
  uiStore.setState((s) => ({ ...s, dialog }));
}

export function closeDialog(): void {
  uiStore.setState((s) => (s.dialog ? { ...s, dialog: undefined } : s));
}

export function setUi(patch: Partial<UiState>): void {
  uiStore.setState((s) => ({ ...s, ...patch }));
}
