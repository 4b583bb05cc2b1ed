/**
 * Every bundled sample must open cleanly with the real node library, be in canonical form
 * (what the app would save), and survive read → write → read unchanged.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readDocumentFile, serializeDocument, writeDocumentFile } from '../../main/engine/document/index.ts';
import type { NodeType, PortTypeDefinition } from '../../main/engine/node-api.ts';
import type { Registry } from '../../main/engine/registry.ts';
import { createRegistry } from '../../main/engine/registry.ts';

const root = join(import.meta.dirname, '..', '..');
const samplesDir = join(root, 'samples');
const samples = existsSync(samplesDir) ? readdirSync(samplesDir).filter((f) => f.endsWith('.dlflow')).sort() : [];
const nodesIndex = join(root, 'nodes', 'index.ts');

/** The real node library when it exists (imported by path: the document layer must not depend on it). */
async function realRegistry(): Promise<Registry | undefined> {
  if (!existsSync(nodesIndex)) return undefined;
  const lib = (await import(/* @vite-ignore */ pathToFileURL(nodesIndex).href)) as {
    allNodes: NodeType[];
    allPortTypes: PortTypeDefinition[];
  };
  return createRegistry(lib.allNodes, lib.allPortTypes);
}

describe('samples/*.dlflow', () => {
  it.skipIf(samples.length > 0)('no samples/*.dlflow yet: nothing to round-trip', () => {});

  describe.skipIf(samples.length === 0)('round-trip', () => {
    for (const name of samples) {
      it(name, async () => {
        const registry = await realRegistry();
        const file = join(samplesDir, name);
        const text = readFileSync(file, 'utf8');
        const read = await readDocumentFile(file, registry ?? createRegistry([], []));
        expect(read.document, `${name} did not parse: ${read.diagnostics.map((d) => d.message).join('; ')}`).toBeDefined();
        if (registry) {
          // Samples must run as shipped: no errors and no warnings against the real nodes.
          expect(read.diagnostics.map((d) => d.message)).toEqual([]);
        } else {
          expect(read.diagnostics.every((d) => d.code === 'unknown-node-type')).toBe(true);
        }
        // Canonical form, so the app's first save of a sample produces no diff.
        expect(serializeDocument(read.document!), `${name} is not in canonical form; rewrite it with serializeDocument`).toBe(text);

        const dir = await mkdtemp(join(tmpdir(), 'dlflow-sample-'));
        try {
          // Written as if saved in place (no fromDir): relative paths stay as they are.
          const copy = join(dir, name);
          const reg = registry ?? createRegistry([], []);
          await writeDocumentFile(copy, read.document!, reg);
          expect(await readFile(copy, 'utf8')).toBe(text);
          expect((await readDocumentFile(copy, reg)).document).toEqual(read.document);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
    }
  });
});
