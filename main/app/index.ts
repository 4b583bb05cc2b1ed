// app: Electron composition root; may import electron, main/protocol and (in engine-host.ts only) the engine and nodes/.
/// <reference types="electron-vite/node" />
/**
 * The desktop app: one window on out/renderer/index.html, the engine in a utility process (so a
 * training run never blocks the UI thread), IPC forwarding both ways, native path dialogs.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, utilityProcess, type IpcMainInvokeEvent, type UtilityProcess } from 'electron';
import type { EngineEvent } from '../protocol/index.ts';
import { isEngineMethod, type BridgeReply, type PickPathOptions, type WireError } from '../protocol/wire.ts';
import { IPC, type HostMessage } from './channels.ts';
import engineHostPath from './engine-host.ts?modulePath';

const here = fileURLToPath(new URL('.', import.meta.url));

interface PendingCall {
  resolve: (reply: BridgeReply) => void;
}

/**
 * The engine's utility process, started on first use and again after it exits. Calls wait for
 * its `ready`; calls in flight when it dies answer with an error instead of hanging.
 */
class EngineProcess {
  private child: UtilityProcess | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 1;

  constructor(private readonly onEvent: (event: EngineEvent) => void) {}

  private start(): Promise<void> {
    const child = utilityProcess.fork(resolve(here, engineHostPath), [], { serviceName: 'dlflow engine', stdio: 'inherit' });
    this.child = child;
    return new Promise<void>((started, failed) => {
      child.on('message', (message: HostMessage) => {
        switch (message.kind) {
          case 'ready':
            started();
            return;
          case 'fatal':
            failed(new Error(`the engine could not start: ${message.message}`));
            return;
          case 'event':
            this.onEvent(message.event);
            return;
          case 'response': {
            const call = this.pending.get(message.id);
            if (!call) return;
            this.pending.delete(message.id);
            call.resolve('error' in message ? { ok: false, error: message.error } : { ok: true, result: message.result });
            return;
          }
          case 'request':
            return;
          default: {
            const never: never = message;
            return never;
          }
        }
      });
      child.on('exit', (code) => {
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
        failed(new Error(`the engine process exited (code ${code}) while starting`));
        const error: WireError = { message: `the engine process exited (code ${code}); the call was lost`, code: 'engine-exited' };
        for (const [, call] of this.pending) call.resolve({ ok: false, error });
        this.pending.clear();
      });
    });
  }

  async call(method: string, args: unknown): Promise<BridgeReply> {
    try {
      await (this.ready ??= this.start());
    } catch (error) {
      this.ready = undefined;
      return { ok: false, error: { message: (error as Error).message, code: 'engine-unavailable' } };
    }
    const id = this.nextId++;
    return new Promise<BridgeReply>((resolveCall) => {
      this.pending.set(id, { resolve: resolveCall });
      this.child!.postMessage({ kind: 'request', id, method, args } satisfies HostMessage);
    });
  }

  stop(): void {
    this.child?.kill();
    this.child = undefined;
  }
}

/** Only our own pages may drive the engine: the packaged file or the dev server. */
function trustedSender(event: IpcMainInvokeEvent): boolean {
  const url = event.senderFrame?.url ?? '';
  const dev = process.env.ELECTRON_RENDERER_URL;
  return url.startsWith('file://') || (dev !== undefined && url.startsWith(dev));
}

async function pickPath(window: BrowserWindow | null, options: PickPathOptions): Promise<string | null> {
  const filters = options.extensions?.length ? [{ name: options.extensions.join(', '), extensions: [...options.extensions] }] : [];
  const common = { title: options.title, defaultPath: options.defaultPath ?? (options.current || undefined), filters };
  if (options.mode === 'save') {
    const result = window ? await dialog.showSaveDialog(window, common) : await dialog.showSaveDialog(common);
    return result.canceled || !result.filePath ? null : result.filePath;
  }
  const properties: ('openFile' | 'openDirectory' | 'createDirectory')[] = options.mode === 'folder' ? ['openDirectory', 'createDirectory'] : ['openFile'];
  const result = window ? await dialog.showOpenDialog(window, { ...common, properties }) : await dialog.showOpenDialog({ ...common, properties });
  return result.canceled ? null : (result.filePaths[0] ?? null);
}

/** The first `.dlflow` argument, if the app was started with one. */
function initialFileFromArgs(argv: readonly string[]): string | undefined {
  const file = argv.slice(1).find((arg) => arg.endsWith('.dlflow') && !arg.startsWith('-'));
  return file && existsSync(file) ? resolve(file) : undefined;
}

function createWindow(initialFile: string | undefined): BrowserWindow {
  const window = new BrowserWindow({
    width: 1440,
    height: 900,
    title: 'dlflow',
    show: false,
    webPreferences: {
      preload: join(here, '../preload/index.mjs'),
      contextIsolation: true,
      nodeIntegration: false,
      // ESM preload scripts need an unsandboxed preload; the page itself still has no Node.
      sandbox: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  // The editor never opens other pages inside itself.
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  const query = initialFile ? { file: initialFile } : undefined;
  const dev = process.env.ELECTRON_RENDERER_URL;
  if (dev) {
    const url = new URL(dev);
    if (initialFile) url.searchParams.set('file', initialFile);
    void window.loadURL(url.href);
  } else {
    void window.loadFile(join(here, '../renderer/index.html'), query ? { query } : {});
  }
  return window;
}

function main(): void {
  const engine = new EngineProcess((event) => {
    for (const window of BrowserWindow.getAllWindows()) window.webContents.send(IPC.event, event);
  });

  ipcMain.handle(IPC.call, async (event, method: unknown, args: unknown): Promise<BridgeReply> => {
    if (!trustedSender(event)) return { ok: false, error: { message: 'untrusted page', code: 'forbidden' } };
    if (!isEngineMethod(method)) return { ok: false, error: { message: `unknown method ${JSON.stringify(method)}`, code: 'unknown-method' } };
    return engine.call(method, args);
  });
  ipcMain.handle(IPC.pickPath, async (event, options: PickPathOptions) => {
    if (!trustedSender(event)) return null;
    return pickPath(BrowserWindow.fromWebContents(event.sender), options);
  });

  const initialFile = initialFileFromArgs(process.argv);
  void app.whenReady().then(() => {
    createWindow(initialFile);
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow(undefined);
    });
  });
  app.on('window-all-closed', () => {
    engine.stop();
    if (process.platform !== 'darwin') app.quit();
  });
}

main();
