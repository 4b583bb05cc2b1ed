// engine: a plain Node library; imports main/protocol, Node built-ins and TF.js — never electron, renderer, nodes or front ends.
export * from './node-api.ts';
export * from './errors.ts';
export * from './random.ts';
export * from './params.ts';
export * from './registry.ts';
export * from './graph.ts';
export * from './engine.ts';
export * from './sinks.ts';
export * from './stable-json.ts';
export { selectBackend, currentBackend, BACKEND_NAMES } from './backend/select.ts';
export * from './document/index.ts';
