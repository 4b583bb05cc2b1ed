/** Where CLI commands write, and how errors become exit codes and one-line messages. */
import { CancelledError, UserError } from '../engine/errors.ts';
import { InputProblems } from './document.ts';

export interface OutStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIo {
  stdout: OutStream;
  stderr: OutStream;
  env: NodeJS.ProcessEnv;
}

export const EXIT = { ok: 0, failed: 1, badInput: 2, cancelled: 130 } as const;

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/**
 * Prints an error the way the user should see it and returns the exit code: bad input (2) and
 * cancellation (130) as plain lines; anything else as one line too, with the stack only under
 * DLFLOW_DEBUG=1 (it is our bug, not the user's, so we say how to get details).
 */
export function reportError(error: unknown, io: CliIo): number {
  const debug = io.env.DLFLOW_DEBUG === '1' || io.env.DLFLOW_DEBUG === 'true';
  if (error instanceof InputProblems) {
    io.stderr.write(`${error.lines.join('\n')}\n`);
    return EXIT.badInput;
  }
  if (error instanceof UserError) {
    io.stderr.write(`error: ${error.message}\n`);
    if (debug && error.stack) io.stderr.write(`${error.stack}\n`);
    return EXIT.badInput;
  }
  if (error instanceof CancelledError) {
    io.stderr.write('cancelled\n');
    return EXIT.cancelled;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`error: ${message}\n`);
  if (debug) io.stderr.write(`${error instanceof Error ? error.stack : ''}\n`);
  else io.stderr.write('(this looks like a bug in dlflow; run with DLFLOW_DEBUG=1 for the stack trace)\n');
  return EXIT.failed;
}
