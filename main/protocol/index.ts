// protocol: types and pure helpers only; imports nothing outside main/protocol.
export * from './schema.ts';
export * from './preview.ts';
export * from './document.ts';
export * from './events.ts';
export * from './api.ts';
