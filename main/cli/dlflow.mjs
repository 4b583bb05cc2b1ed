#!/usr/bin/env node
// The `dlflow` bin: registers tsx so the TypeScript sources run as they are, then hands over to main/cli/index.ts.
import { register } from 'tsx/esm/api';

register();

// `dlflow nodes | head` closes the pipe early: that is the reader's choice, not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

// Last line of defence: an error nothing caught is our bug; say so in one line (the stack with DLFLOW_DEBUG=1).
const crash = (error) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.stderr.write(
    process.env.DLFLOW_DEBUG ? `${error instanceof Error ? error.stack : ''}\n` : '(this looks like a bug in dlflow; run with DLFLOW_DEBUG=1 for the stack trace)\n',
  );
  process.exit(1);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

const { main } = await import('./index.ts');
const code = await main(process.argv.slice(2));
// Let piped output drain before leaving; exiting explicitly also stops stray handles (TF.js timers) from keeping us alive.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((done) => stream.write('', done))));
process.exit(code);
