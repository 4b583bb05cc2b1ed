/**
 * Output cache: an in-memory LRU under a byte budget, backed for `persist` nodes by a
 * content-addressed folder on disk (`<cacheDir>/outputs/<key>/`), written atomically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PreviewPayload } from '../protocol/index.ts';
import type { NodeType, PortTypeDefinition } from './node-api.ts';
import type { Registry } from './registry.ts';
import { writeDirAtomic } from './atomic.ts';

export interface CacheEntry {
  key: string;
  typeId: string;
  outputs: Record<string, unknown>;
  /** Last preview of each kind the node emitted, replayed when served from cache. */
  previews: PreviewPayload[];
  summary?: string;
  bytes: number;
  lastUsed: number;
}

const DEFAULT_BYTES = 1024 * 1024;

export class OutputCache {
  private readonly entries = new Map<string, CacheEntry>();
  /** Keys used by the run in progress: never evicted under it. */
  private readonly pinned = new Set<string>();

  constructor(
    private readonly registry: Registry,
    readonly dir: string,
    private readonly budgetBytes: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  memoryBytes(): number {
    let total = 0;
    for (const e of this.entries.values()) total += e.bytes;
    return total;
  }

  hasInMemory(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): CacheEntry | undefined {
    const entry = this.entries.get(key);
    if (entry) entry.lastUsed = performance.now();
    return entry;
  }

  pin(key: string): void {
    this.pinned.add(key);
  }

  unpinAll(): void {
    this.pinned.clear();
  }

  /** Stores an entry, disposing whatever it replaces, then evicts down to the budget. */
  put(entry: Omit<CacheEntry, 'bytes' | 'lastUsed'>): CacheEntry {
    const full: CacheEntry = { ...entry, bytes: this.sizeOf(entry.typeId, entry.outputs), lastUsed: performance.now() };
    const old = this.entries.get(entry.key);
    this.entries.set(entry.key, full);
    if (old) this.disposeEntry(old);
    this.evict();
    return full;
  }

  /** Drops least recently used unpinned entries until the memory budget holds. */
  evict(): void {
    let total = this.memoryBytes();
    if (total <= this.budgetBytes) return;
    const candidates = [...this.entries.values()].filter((e) => !this.pinned.has(e.key)).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const entry of candidates) {
      if (total <= this.budgetBytes) break;
      this.entries.delete(entry.key);
      this.disposeEntry(entry);
      total -= entry.bytes;
    }
  }

  /** Disposes every entry (engine shutdown, tests). */
  clear(): void {
    const all = [...this.entries.values()];
    this.entries.clear();
    this.pinned.clear();
    for (const e of all) this.disposeEntry(e);
  }

  private portTypesOf(typeId: string): Map<string, PortTypeDefinition | undefined> {
    const node = this.registry.get(typeId);
    const map = new Map<string, PortTypeDefinition | undefined>();
    for (const [name, port] of Object.entries(node?.outputs ?? {})) map.set(name, this.registry.portType(port.type));
    return map;
  }

  private sizeOf(typeId: string, outputs: Record<string, unknown>): number {
    const ports = this.portTypesOf(typeId);
    let total = 0;
    for (const [name, value] of Object.entries(outputs)) {
      const pt = ports.get(name);
      total += pt?.sizeBytes ? pt.sizeBytes(value) : DEFAULT_BYTES;
    }
    return total;
  }

  /**
   * Disposes an entry's values, except values still held by another entry (a node may pass
   * an input through unchanged: disposing it would break the upstream entry).
   */
  private disposeEntry(entry: CacheEntry): void {
    this.disposeValues(entry.typeId, entry.outputs);
  }

  /**
   * Disposes a node's output values through their port types, skipping any value still held by
   * a cache entry or listed in `held` (e.g. the node's own inputs, passed through).
   */
  disposeValues(typeId: string, outputs: Record<string, unknown>, held: Iterable<unknown> = []): void {
    const live = new Set<unknown>(held);
    for (const e of this.entries.values()) for (const v of Object.values(e.outputs)) live.add(v);
    const ports = this.portTypesOf(typeId);
    for (const [name, value] of Object.entries(outputs ?? {})) {
      if (live.has(value)) continue;
      try {
        ports.get(name)?.dispose?.(value);
      } catch {
        // A failing dispose must not take the cache down; the value is dropped either way.
      }
    }
  }

  // ---- disk ----

  /** True when the node's outputs can be stored on disk (persist + every port type has save/load). */
  canPersist(node: NodeType): boolean {
    if (!node.persist) return false;
    return Object.values(node.outputs).every((p) => {
      const pt = this.registry.portType(p.type);
      return Boolean(pt?.save && pt.load);
    });
  }

  private entryDir(key: string): string {
    return join(this.dir, 'outputs', key);
  }

  hasOnDisk(key: string): boolean {
    return existsSync(join(this.entryDir(key), 'entry.json'));
  }

  /** The summary stored with a disk entry, without loading its outputs. */
  peekDiskSummary(key: string): string | undefined {
    try {
      const meta = JSON.parse(readFileSync(join(this.entryDir(key), 'entry.json'), 'utf8')) as { summary?: unknown };
      return typeof meta.summary === 'string' ? meta.summary : undefined;
    } catch {
      return undefined;
    }
  }

  /** Writes an entry's outputs to disk atomically: a crash leaves the old entry or none. */
  async saveToDisk(node: NodeType, entry: CacheEntry): Promise<void> {
    await mkdir(join(this.dir, 'outputs'), { recursive: true });
    await writeDirAtomic(this.entryDir(entry.key), async (tmp) => {
      for (const [name, port] of Object.entries(node.outputs)) {
        const pt = this.registry.portType(port.type)!;
        const sub = join(tmp, `out-${name}`);
        await mkdir(sub);
        await pt.save!(entry.outputs[name], sub);
      }
      const previews = JSON.stringify(entry.previews, (_k, v) =>
        v instanceof Uint8Array ? { $png: Buffer.from(v).toString('base64') } : v,
      );
      await writeFile(join(tmp, 'previews.json'), previews);
      // entry.json last: its presence marks a complete entry.
      await writeFile(
        join(tmp, 'entry.json'),
        JSON.stringify({ key: entry.key, typeId: entry.typeId, summary: entry.summary, outputs: Object.keys(node.outputs) }),
      );
    });
  }

  /** Loads an entry from disk into memory; undefined when absent or unreadable. */
  async loadFromDisk(node: NodeType, key: string): Promise<CacheEntry | undefined> {
    const dir = this.entryDir(key);
    try {
      const meta = JSON.parse(await readFile(join(dir, 'entry.json'), 'utf8')) as { typeId: string; summary?: string };
      const outputs: Record<string, unknown> = {};
      for (const [name, port] of Object.entries(node.outputs)) {
        const pt = this.registry.portType(port.type)!;
        outputs[name] = await pt.load!(join(dir, `out-${name}`));
      }
      const previews = JSON.parse(await readFile(join(dir, 'previews.json'), 'utf8'), (_k, v) =>
        v && typeof v === 'object' && typeof v.$png === 'string' ? new Uint8Array(Buffer.from(v.$png, 'base64')) : v,
      ) as PreviewPayload[];
      return this.put({ key, typeId: meta.typeId, outputs, previews, summary: meta.summary });
    } catch {
      // A damaged entry is treated as a miss and removed so it is rebuilt.
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      return undefined;
    }
  }

  /** Bytes used by the disk cache. */
  async diskBytes(): Promise<number> {
    return folderBytes(this.dir);
  }
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const p = join(dir, name);
    const s = await stat(p).catch(() => undefined);
    if (!s) continue;
    total += s.isDirectory() ? await folderBytes(p) : s.size;
  }
  return total;
}
