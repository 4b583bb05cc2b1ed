/** Validates the document through the engine shortly after each edit; diagnostics go on nodes. */
import { useEffect } from 'react';
import { errorText } from '../actions/documentActions.ts';
import { engine } from '../engine/engineClient.ts';
import { setDiagnostics, setDiagnosticsError } from '../stores/diagnosticsStore.ts';
import { editorStore } from '../stores/editorStore.ts';
import { catalogStore } from '../stores/catalogStore.ts';

export const VALIDATE_DEBOUNCE_MS = 250;

export function useValidation(): void {
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let seq = 0;
    let last = editorStore.getState().history.present;
    const validate = () => {
      const doc = editorStore.getState().history.present;
      const mine = ++seq;
      engine()
        .call('validate', { document: doc })
        .then((diags) => {
          if (mine !== seq) return;
          setDiagnostics(diags);
          setDiagnosticsError(undefined);
        })
        .catch((err) => {
          if (mine === seq) setDiagnosticsError(errorText(err));
        });
    };
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(validate, VALIDATE_DEBOUNCE_MS);
    };
    const offEditor = editorStore.subscribe(() => {
      const doc = editorStore.getState().history.present;
      if (doc === last) return;
      last = doc;
      schedule();
    });
    // Re-validate once the catalog arrives (unknown-type checks depend on it server-side too).
    const offCatalog = catalogStore.subscribe(schedule);
    schedule();
    return () => {
      clearTimeout(timer);
      offEditor();
      offCatalog();
    };
  }, []);
}
