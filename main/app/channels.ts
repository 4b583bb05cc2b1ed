/** Names and message shapes shared by the Electron main process, its engine process and the preload. */
import type { WireMessage } from '../protocol/wire.ts';

/** ipcRenderer.invoke channels (renderer → main) and the event channel (main → renderer). */
export const IPC = {
  call: 'dlflow:call',
  pickPath: 'dlflow:pick-path',
  event: 'dlflow:event',
} as const;

/**
 * Messages between the main process and the engine's utility process. Requests, responses and
 * events are the WebSocket's WireMessage objects, sent as structured clones (so preview bytes stay
 * Uint8Arrays without encoding); `ready`/`fatal` report how the engine started.
 */
export type HostMessage = WireMessage | { kind: 'ready' } | { kind: 'fatal'; message: string };
