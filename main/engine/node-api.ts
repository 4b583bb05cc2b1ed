/** defineNode and the run context: the contract between the engine and every node file. */
import type {
  NodeSchema,
  ParamSchema,
  ParamValue,
  PortSchema,
  PortTypeSchema,
  PreviewKind,
  PreviewPayload,
} from '../protocol/index.ts';
import type { Random } from './random.ts';

/**
 * Maps a port type id to the TypeScript type of values on such ports. Empty here: the node
 * library augments it (`declare module`) so the engine never imports node code.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface PortValueTypes {}

export type PortTypeId = keyof PortValueTypes & string;
type ValueOfPort<T extends string> = T extends PortTypeId ? PortValueTypes[T] : unknown;

export interface PortDecl<T extends string = string> extends PortSchema {
  type: T;
}

type InputValues<I extends Record<string, PortDecl>> = {
  [K in keyof I as I[K]['optional'] extends true ? never : K]: ValueOfPort<I[K]['type']>;
} & {
  [K in keyof I as I[K]['optional'] extends true ? K : never]?: ValueOfPort<I[K]['type']>;
};
type OutputValues<O extends Record<string, PortDecl>> = { [K in keyof O]: ValueOfPort<O[K]['type']> };
type ParamValues<P extends Record<string, ParamSchema>> = { [K in keyof P]: ParamValue<P[K]> };

/** What a running node may do besides computing. */
export interface RunContext {
  /** Aborted when the run is cancelled; check it between batches/epochs. */
  readonly signal: AbortSignal;
  /** Report progress in [0, 1] with an optional note (e.g. `epoch 3/10`). Throttled by the engine. */
  progress(fraction: number, note?: string): void;
  /** Stream a preview (e.g. each epoch's curves). The last one is kept as the node's preview. */
  preview(payload: PreviewPayload): void;
  log(message: string, level?: 'info' | 'warn'): void;
  /** Seeded from the node's `seed` param if it has one, else from its type and id. */
  readonly random: Random;
  /** A folder private to this node and its cache key (checkpoints, scratch files). */
  readonly cacheDir: string;
  /** Folder of the document: resolve relative path params against it. */
  readonly baseDir: string;
  /** Node id within the document (for messages). */
  readonly nodeId: string;
  /** True when the caller allowed code nodes to run. */
  readonly allowCode: boolean;
  /** Runs when the node finishes, fails or is cancelled (close workers, files). */
  onCleanup(fn: () => void | Promise<void>): void;
  /** Throws the cancellation error if the run was cancelled. */
  throwIfCancelled(): void;
}

export interface NodeMigration {
  /** Applies to params saved by node `version < toVersion`. */
  toVersion: number;
  migrate(params: Record<string, unknown>): Record<string, unknown>;
}

export interface NodeDefinition<
  I extends Record<string, PortDecl> = Record<string, PortDecl>,
  P extends Record<string, ParamSchema> = Record<string, ParamSchema>,
  O extends Record<string, PortDecl> = Record<string, PortDecl>,
> {
  id: string;
  version?: number;
  name: string;
  category: string;
  description: string;
  inputs: I;
  params: P;
  outputs: O;
  previews?: readonly PreviewKind[];
  sideEffects?: boolean;
  /** Also keep outputs on disk, so a new process reuses them (datasets, trained models). */
  persist?: boolean;
  /** Extra cache-key material, e.g. file sizes and mtimes of what a loader reads. */
  fingerprint?(params: ParamValues<P>, ctx: { baseDir: string }): string | Promise<string>;
  /** Extra validation across params; return messages keyed by param. */
  checkParams?(params: ParamValues<P>): { param?: string; message: string }[];
  run(inputs: InputValues<I>, params: ParamValues<P>, ctx: RunContext): Promise<OutputValues<O>>;
  /** Pure: builds a preview from outputs, used when outputs come from cache. */
  preview?(outputs: OutputValues<O>, params: ParamValues<P>): PreviewPayload | PreviewPayload[] | undefined;
  /** One line for run summaries and logs, e.g. `validation accuracy 93.1%`. */
  summary?(outputs: OutputValues<O>, params: ParamValues<P>): string | undefined;
  migrations?: readonly NodeMigration[];
}

/** A node type after definition: the loose shape the engine handles. */
export interface NodeType {
  readonly id: string;
  readonly version: number;
  readonly name: string;
  readonly category: string;
  readonly description: string;
  readonly inputs: Record<string, PortDecl>;
  readonly params: Record<string, ParamSchema>;
  readonly outputs: Record<string, PortDecl>;
  readonly previews: readonly PreviewKind[];
  readonly sideEffects: boolean;
  readonly persist: boolean;
  readonly migrations: readonly NodeMigration[];
  fingerprint?(params: Record<string, unknown>, ctx: { baseDir: string }): string | Promise<string>;
  checkParams?(params: Record<string, unknown>): { param?: string; message: string }[];
  run(inputs: Record<string, unknown>, params: Record<string, unknown>, ctx: RunContext): Promise<Record<string, unknown>>;
  preview?(outputs: Record<string, unknown>, params: Record<string, unknown>): PreviewPayload | PreviewPayload[] | undefined;
  summary?(outputs: Record<string, unknown>, params: Record<string, unknown>): string | undefined;
}

/**
 * Declares a node type. Input, param and output value types are inferred from the
 * declarations; the returned object is what `nodes/index.ts` lists.
 */
export function defineNode<
  const I extends Record<string, PortDecl>,
  const P extends Record<string, ParamSchema>,
  const O extends Record<string, PortDecl>,
>(def: NodeDefinition<I, P, O>): NodeType {
  return {
    version: 1,
    previews: [],
    sideEffects: false,
    persist: false,
    migrations: [],
    ...def,
  } as unknown as NodeType;
}

/** How values of a port type are disposed, sized and (optionally) stored on disk. */
export interface PortTypeDefinition<T = unknown> extends PortTypeSchema {
  /** Release resources (tensors) held by a value. Called when its cache entry goes. */
  dispose?(value: T): void;
  /** Approximate bytes held, for the in-memory cache budget. */
  sizeBytes?(value: T): number;
  /** Write a value into `dir` (which exists and is empty). Enables the disk cache. */
  save?(value: T, dir: string): Promise<void>;
  load?(dir: string): Promise<T>;
}

export function definePortType<K extends string>(
  def: PortTypeDefinition<K extends PortTypeId ? PortValueTypes[K] : unknown> & { id: K },
): PortTypeDefinition {
  return def as PortTypeDefinition;
}

/** JSON schema of a node type for the UI and `dlflow nodes --json`. */
export function nodeSchemaOf(type: NodeType): NodeSchema {
  const ports = (r: Record<string, PortDecl>): Record<string, PortSchema> =>
    Object.fromEntries(Object.entries(r).map(([k, p]) => [k, { ...p }]));
  return {
    id: type.id,
    version: type.version,
    name: type.name,
    category: type.category,
    description: type.description,
    inputs: ports(type.inputs),
    outputs: ports(type.outputs),
    params: structuredClone(type.params),
    sideEffects: type.sideEffects,
    previews: [...type.previews],
  };
}
