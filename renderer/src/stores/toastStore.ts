/** Short messages at the bottom of the screen (refused wires, save results, errors). */
import { createStore, useStoreSelector } from './store.ts';

export interface Toast {
  id: number;
  kind: 'info' | 'error' | 'success';
  message: string;
}

export interface ToastState {
  toasts: readonly Toast[];
}

export const toastStore = createStore<ToastState>({ toasts: [] });
let nextId = 1;

export function useToastStore<S>(selector: (s: ToastState) => S): S {
  return useStoreSelector(toastStore, selector);
}

/** Shows a toast for a few seconds (errors stay longer). Repeats of the same text are merged. */
export function showToast(message: string, kind: Toast['kind'] = 'info'): void {
  const existing = toastStore.getState().toasts.find((t) => t.message === message);
  if (existing) dismissToast(existing.id);
  const id = nextId++;
  toastStore.setState((s) => ({ toasts: [...s.toasts.slice(-4), { id, kind, message }] }));
  setTimeout(() => dismissToast(id), kind === 'error' ? 8000 : 4000);
}

export function dismissToast(id: number): void {
  toastStore.setState((s) => (s.toasts.some((t) => t.id === id) ? { toasts: s.toasts.filter((t) => t.id !== id) } : s));
}
