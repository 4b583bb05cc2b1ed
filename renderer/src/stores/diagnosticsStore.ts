/** Validation diagnostics from the engine, indexed by node so each node finds its own. */
import type { Diagnostic } from '../../../main/protocol/index.ts';
import { createStore, useStoreSelector } from './store.ts';

export interface DiagnosticsState {
  all: readonly Diagnostic[];
  byNode: ReadonlyMap<string, readonly Diagnostic[]>;
  /** Why validation itself could not run (transport down), shown in the status bar. */
  error?: string;
}

const NONE: readonly Diagnostic[] = Object.freeze([]);

export const diagnosticsStore = createStore<DiagnosticsState>({ all: NONE, byNode: new Map() });

export function useDiagnosticsStore<S>(selector: (s: DiagnosticsState) => S): S {
  return useStoreSelector(diagnosticsStore, selector);
}

export function nodeDiagnostics(s: DiagnosticsState, nodeId: string): readonly Diagnostic[] {
  return s.byNode.get(nodeId) ?? NONE;
}

export function setDiagnostics(all: readonly Diagnostic[]): void {
  const byNode = new Map<string, Diagnostic[]>();
  for (const d of all) {
    if (!d.nodeId) continue;
    const list = byNode.get(d.nodeId) ?? [];
    list.push(d);
    byNode.set(d.nodeId, list);
  }
  diagnosticsStore.setState({ all, byNode });
}

export function setDiagnosticsError(error: string | undefined): void {
  diagnosticsStore.setState((s) => (s.error === error ? s : { ...s, error }));
}
