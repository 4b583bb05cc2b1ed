/**
 * The engine's own process (Electron utilityProcess): builds the engine with the node list and
 * serves the main process's requests, so training never blocks the window's UI thread.
 */
import { createEngine } from '../engine/index.ts';
import type { EngineApi } from '../protocol/index.ts';
import { answerRequest, errorToWire } from '../protocol/wire.ts';
import { allNodes, allPortTypes } from '../../nodes/index.ts';
import { withRunStatus } from '../server/runs.ts';
import { withCodeTrust } from '../server/trust.ts';
import type { HostMessage } from './channels.ts';

const parent = process.parentPort;
const post = (message: HostMessage): void => parent.postMessage(message);

// Runs get `allowCode` from the user's trust store (~/.config/dlflow/trusted-code.json), as in browser mode.
const ready: Promise<EngineApi> = createEngine({ nodes: allNodes, portTypes: allPortTypes }).then((engine) => {
  engine.onEvent((event) => post({ kind: 'event', event }));
  post({ kind: 'ready' });
  return withRunStatus(withCodeTrust(engine));
});
ready.catch((error: unknown) => post({ kind: 'fatal', message: (error as Error)?.message ?? String(error) }));

parent.on('message', (envelope: { data: HostMessage }) => {
  const message = envelope.data;
  if (message.kind !== 'request') return;
  void ready.then(
    (engine) =>
      answerRequest(engine, message)
        .then(post)
        // A result structured clone cannot copy (a function, say) still gets an answer.
        .catch((error: unknown) => post({ kind: 'response', id: message.id, error: { message: `result of ${message.method} cannot be sent: ${errorToWire(error).message}` } })),
    (error: unknown) => post({ kind: 'response', id: message.id, error: { message: `the engine could not start: ${errorToWire(error).message}`, code: 'engine-unavailable' } }),
  );
});
