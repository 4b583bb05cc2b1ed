/** What `info()` said about the engine: backend name and why better ones were skipped. */
import { createStore, useStoreSelector } from './store.ts';

export interface BackendState {
  backend?: string;
  detail?: string;
  error?: string;
  /** The transport's connection (browser mode can lose and regain its WebSocket). */
  connection: 'connecting' | 'open' | 'closed';
}

export const backendStore = createStore<BackendState>({ connection: 'connecting' });

export function useBackendStore<S>(selector: (s: BackendState) => S): S {
  return useStoreSelector(backendStore, selector);
}
