// server: the composition root for code trust; may import nodes/_lib/code-trust.ts (the engine never does).
/**
 * Code trust for front ends (browser mode and the Electron engine host). A client can ask whether
 * a document's code is trusted (`codeTrust`) and record trust after asking the user (`trustCode`);
 * `run` then gets `allowCode` from the trust store, never from what the client claims.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { codeNodesOf, documentCodeHash, openTrustStore, type TrustStore } from '../../nodes/_lib/code-trust.ts';
import { UserError } from '../engine/errors.ts';
import type { CodeTrust, DlflowDocument, EngineApi, NodeCatalog } from '../protocol/index.ts';

/** `$XDG_CONFIG_HOME/dlflow/trusted-code.json`, else `~/.config/dlflow/trusted-code.json`. */
export function defaultTrustStoreFile(): string {
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'dlflow', 'trusted-code.json');
}

export interface CodeTrustOptions {
  /** The trust store's file. Default defaultTrustStoreFile(). */
  storeFile?: string;
}

const HASH = /^[0-9a-f]{64}$/;

function checkDocument(document: unknown, method: string): DlflowDocument {
  const nodes = (document as { nodes?: unknown } | null | undefined)?.nodes;
  if (!Array.isArray(nodes)) throw new UserError(`${method}: expected a document with a "nodes" array`);
  return document as DlflowDocument;
}

/**
 * Wraps an engine with the host methods `codeTrust` / `trustCode` and makes `run` decide
 * `allowCode` from the trust store: true only when the document has code and its hash is trusted.
 */
export function withCodeTrust(engine: EngineApi, options: CodeTrustOptions = {}): EngineApi {
  const file = options.storeFile ?? defaultTrustStoreFile();
  let store: Promise<TrustStore> | undefined;
  const openStore = (): Promise<TrustStore> => (store ??= openTrustStore(file));
  let catalog: Promise<NodeCatalog> | undefined;
  const getCatalog = (): Promise<NodeCatalog> => {
    catalog ??= engine.listNodes(undefined);
    // A failed listNodes is not remembered: the next call asks again.
    catalog.catch(() => (catalog = undefined));
    return catalog;
  };

  const trustOf = async (document: DlflowDocument): Promise<CodeTrust> => {
    const cat = await getCatalog();
    const hash = documentCodeHash(document, cat);
    if (hash === undefined) return { trusted: true };
    return { hash, trusted: (await openStore()).isTrusted(hash), codeNodes: codeNodesOf(document, cat) };
  };

  return {
    listNodes: (args) => engine.listNodes(args),
    info: (args) => engine.info(args),
    validate: (args) => engine.validate(args),
    cancel: (args) => engine.cancel(args),
    openDocument: (args) => engine.openDocument(args),
    parseDocument: (args) => engine.parseDocument(args),
    saveDocument: (args) => engine.saveDocument(args),
    onEvent: (listener) => engine.onEvent(listener),
    codeTrust: async (args) => trustOf(checkDocument(args?.document, 'codeTrust')),
    trustCode: async (args) => {
      const hash = args?.hash;
      if (typeof hash !== 'string' || !HASH.test(hash)) throw new UserError('trustCode: expected "hash", the 64 hex digits codeTrust returned');
      const path = typeof args?.path === 'string' && args.path !== '' ? args.path : undefined;
      await (await openStore()).trust(hash, path);
      return { hash, trusted: true };
    },
    run: async (args) => {
      // A malformed document gets the engine's own message; it cannot run code either way.
      const document = args?.document;
      const trust = Array.isArray(document?.nodes) ? await trustOf(document) : { trusted: false };
      const allowCode = trust.hash !== undefined && trust.trusted;
      return engine.run({ ...args, options: { ...(args?.options ?? {}), allowCode } });
    },
  };
}
