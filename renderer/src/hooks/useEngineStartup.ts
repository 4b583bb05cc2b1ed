/** Start-up: subscribe to engine events, load the catalog and backend info, open the first file. */
import { useEffect } from 'react';
import { openPath } from '../actions/documentActions.ts';
import { resyncDetachedRun } from '../actions/runActions.ts';
import { errorText } from '../actions/documentActions.ts';
import { engine } from '../engine/engineClient.ts';
import { indexCatalog } from '../model/catalog.ts';
import { readRecovery } from '../model/recent.ts';
import { serializeDocument } from '../model/serialize.ts';
import { backendStore } from '../stores/backendStore.ts';
import { catalogStore } from '../stores/catalogStore.ts';
import { currentDocument } from '../stores/editorStore.ts';
import { enqueueRunEvent } from '../stores/runStore.ts';
import { openDialog } from '../stores/uiStore.ts';

/** `?file=` in the page URL (the server also puts the initial file there). */
export function initialFilePath(search: string): string | undefined {
  const file = new URLSearchParams(search).get('file');
  return file && file.trim() !== '' ? file : undefined;
}

/** The file to open first: what the host was started with, else the page URL's `?file=`. */
async function initialFile(): Promise<string | undefined> {
  try {
    const path = await engine().initialFile();
    if (path) return path;
  } catch {
    // An older server without /api/initial: fall back to the URL.
  }
  return typeof location === 'undefined' ? undefined : initialFilePath(location.search);
}

export async function startEngine(): Promise<() => void> {
  const client = engine();
  const offEvents = client.onEvent(enqueueRunEvent);
  backendStore.setState((s) => ({ ...s, connection: client.connectionState() }));
  const loadCatalog = () =>
    client
      .call('listNodes')
      .then((c) => catalogStore.setState({ index: indexCatalog(c), loaded: true }))
      .catch((err) => catalogStore.setState((s) => ({ ...s, error: errorText(err) })));
  let wasClosed = false;
  const offConnection = client.onConnectionChange((connection) => {
    backendStore.setState((s) => ({ ...s, connection }));
    // Back after a drop (server restart): the node list may have changed; a new catalog also
    // re-triggers validation.
    if (connection === 'closed') wasClosed = true;
    else if (connection === 'open' && wasClosed) {
      wasClosed = false;
      void loadCatalog();
      void resyncDetachedRun();
    }
  });
  const catalog = loadCatalog();
  client
    .call('info')
    .then((info) => {
      const skipped = info.backend.skipped.map((s) => `${s.name}: ${s.reason}`).join('\n');
      backendStore.setState((s) => ({
        ...s,
        backend: info.backend.name,
        detail: `dlflow ${info.version}, TF.js ${info.tfjs}, Node ${info.node}${info.backend.forced ? ' (forced)' : ''}${skipped ? `\nskipped:\n${skipped}` : ''}`,
      }));
    })
    .catch((err) => backendStore.setState((s) => ({ ...s, error: errorText(err) })));
  // Read the recovery copy before opening anything: loading a clean document clears it.
  const copy = typeof localStorage === 'undefined' ? undefined : readRecovery(localStorage);
  await catalog;
  const path = await initialFile();
  if (path) await openPath(path, { skipConfirm: true });
  if (copy && serializeDocument(copy.document) !== serializeDocument(currentDocument())) openDialog({ kind: 'recover', copy });
  return () => {
    offEvents();
    offConnection();
  };
}

export function useEngineStartup(): void {
  useEffect(() => {
    let off: (() => void) | undefined;
    let disposed = false;
    void startEngine().then((o) => {
      if (disposed) o();
      else off = o;
    });
    return () => {
      disposed = true;
      off?.();
    };
  }, []);
}
