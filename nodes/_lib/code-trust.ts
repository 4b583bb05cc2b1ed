/**
 * Trust for pipelines that contain code nodes. Code in a .dlflow file runs with the user's
 * rights, so the app asks before running code from a file it has not seen before, and the CLI
 * requires `--allow-code`. Trust is recorded per SHA-256 of the code the file contains (not its
 * path): editing the code, or receiving a different file under the same name, asks again.
 *
 * API for the app / server (the engine only sees the resulting `allowCode` run option):
 *   const codeHash = documentCodeHash(document, catalog)   // undefined: no code nodes, no prompt
 *   const store = await openTrustStore(join(userDataDir, 'trusted-code.json'))
 *   if (codeHash && !store.isTrusted(codeHash)) { ask; if yes: await store.trust(codeHash, path) }
 *   engine.run({ document, options: { allowCode: codeHash === undefined || store.isTrusted(codeHash) } })
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What the helpers need of a document and of the node catalogue (both protocol types fit). */
export interface DocumentLike {
  nodes: readonly { id: string; type: string; params: Record<string, unknown> }[];
}
export interface CatalogLike {
  nodes: readonly { id: string; params: Record<string, { kind: string; language?: string }> }[];
}

/** Code params (TypeScript / JavaScript) of each node type, by node type id. */
function codeParamsByType(catalog: CatalogLike): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const n of catalog.nodes) {
    const keys = Object.entries(n.params)
      .filter(([, p]) => p.kind === 'code' && (p.language === 'typescript' || p.language === 'javascript'))
      .map(([k]) => k);
    if (keys.length > 0) map.set(n.id, keys);
  }
  return map;
}

/** Ids of the document's nodes that run code. */
export function codeNodesOf(document: DocumentLike, catalog: CatalogLike): string[] {
  const types = codeParamsByType(catalog);
  return document.nodes.filter((n) => types.has(n.type)).map((n) => n.id);
}

/**
 * SHA-256 of every code param in the document (node id, param, text, in a stable order), or
 * undefined when the document runs no code. Positions, labels and other params do not count,
 * so moving nodes around keeps a file trusted.
 */
export function documentCodeHash(document: DocumentLike, catalog: CatalogLike): string | undefined {
  const types = codeParamsByType(catalog);
  const parts: string[] = [];
  for (const n of [...document.nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    for (const key of types.get(n.type) ?? []) parts.push(JSON.stringify([n.id, n.type, key, String(n.params[key] ?? '')]));
  }
  if (parts.length === 0) return undefined;
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

export interface TrustEntry {
  /** Where the file was when it was trusted (for a "trusted files" list; not part of the check). */
  path?: string;
  trustedAt: string;
}

export interface TrustStore {
  isTrusted(hash: string): boolean;
  trust(hash: string, path?: string): Promise<void>;
  revoke(hash: string): Promise<void>;
  entries(): Record<string, TrustEntry>;
}

interface TrustFile {
  version: 1;
  trusted: Record<string, TrustEntry>;
}

/** Opens (or starts) the JSON trust store at `file`; writes are atomic. A corrupt file trusts nothing. */
export async function openTrustStore(file: string): Promise<TrustStore> {
  let data: TrustFile = { version: 1, trusted: {} };
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as TrustFile;
    if (parsed && parsed.version === 1 && typeof parsed.trusted === 'object' && parsed.trusted) data = parsed;
  } catch {
    // Missing or unreadable: nothing is trusted yet.
  }
  const save = async (): Promise<void> => {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, JSON.stringify(data, null, 2));
    await rename(`${file}.tmp`, file);
  };
  return {
    isTrusted: (hash) => Object.prototype.hasOwnProperty.call(data.trusted, hash),
    async trust(hash, path) {
      data.trusted[hash] = { ...(path ? { path } : {}), trustedAt: new Date().toISOString() };
      await save();
    },
    async revoke(hash) {
      delete data.trusted[hash];
      await save();
    },
    entries: () => structuredClone(data.trusted),
  };
}
