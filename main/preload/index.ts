// preload: bridges IPC only; imports electron, main/protocol types and the app's channel names.
/** Exposes exactly one object to the renderer, `window.dlflow` (see DlflowBridge in main/protocol/wire.ts). */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { EngineEvent } from '../protocol/index.ts';
import type { BridgeReply, DlflowBridge, PickPathOptions } from '../protocol/wire.ts';
import { IPC } from '../app/channels.ts';

const bridge: DlflowBridge = {
  call: (method: string, args: unknown) => ipcRenderer.invoke(IPC.call, method, args) as Promise<BridgeReply>,
  onEvent(listener: (event: EngineEvent) => void) {
    // Wrapped so the renderer never sees the IpcRendererEvent (it would expose ipcRenderer).
    const handler = (_event: IpcRendererEvent, payload: EngineEvent) => listener(payload);
    ipcRenderer.on(IPC.event, handler);
    return () => {
      ipcRenderer.removeListener(IPC.event, handler);
    };
  },
  pickPath: (options: PickPathOptions) => ipcRenderer.invoke(IPC.pickPath, options) as Promise<string | null>,
};

contextBridge.exposeInMainWorld('dlflow', bridge);
