#!/usr/bin/env node
// The `dlflow` bin: registers tsx so the TypeScript sources run as they are, then hands over to main/cli/index.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./index.ts');
const code = await main(process.argv.slice(2));
// Let piped output drain before leaving; exiting explicitly also stops stray handles (TF.js timers) from keeping us alive.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((done) => stream.write('', done))));
process.exit(code);
