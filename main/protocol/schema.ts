/** JSON-serialisable description of node types, ports and params: what `listNodes()` returns. */

/** The kinds of param a node can declare. Every kind must have a widget in the renderer. */
export const PARAM_KINDS = ['number', 'integer', 'boolean', 'enum', 'string', 'path', 'seed', 'code'] as const;
export type ParamKind = (typeof PARAM_KINDS)[number];

interface ParamBase {
  /** Human label; defaults to the param's key. */
  label?: string;
  /** Markdown help shown in the inspector. */
  description?: string;
  /** Shown on the node body itself, not only in the inspector. */
  inline?: boolean;
}

export interface NumberParam extends ParamBase {
  kind: 'number';
  default: number;
  min?: number;
  max?: number;
  step?: number;
}
export interface IntegerParam extends ParamBase {
  kind: 'integer';
  default: number;
  min?: number;
  max?: number;
}
export interface BooleanParam extends ParamBase {
  kind: 'boolean';
  default: boolean;
}
export interface EnumParam extends ParamBase {
  kind: 'enum';
  default: string;
  options: readonly string[];
}
export interface StringParam extends ParamBase {
  kind: 'string';
  default: string;
  multiline?: boolean;
  /** Empty string is rejected when true. */
  required?: boolean;
}
export interface PathParam extends ParamBase {
  kind: 'path';
  default: string;
  mode: 'file' | 'folder' | 'save';
  /** File extensions offered by the picker, without dots. */
  extensions?: readonly string[];
  required?: boolean;
}
export interface SeedParam extends ParamBase {
  kind: 'seed';
  default: number;
}
export interface CodeParam extends ParamBase {
  kind: 'code';
  default: string;
  language: 'typescript' | 'javascript' | 'json';
}

export type ParamSchema =
  | NumberParam
  | IntegerParam
  | BooleanParam
  | EnumParam
  | StringParam
  | PathParam
  | SeedParam
  | CodeParam;

/** Maps each param schema to the TypeScript type of its value. */
export type ParamValue<P extends ParamSchema> = P extends { kind: 'boolean' }
  ? boolean
  : P extends { kind: 'enum'; options: readonly (infer O)[] }
    ? O
    : P extends { kind: 'number' | 'integer' | 'seed' }
      ? number
      : string;

export interface PortSchema {
  /** A port type id, e.g. `dataset`. Connections must match exactly. */
  type: string;
  label?: string;
  description?: string;
  /** An optional input may stay unconnected. Outputs ignore this. */
  optional?: boolean;
}

export interface PortTypeSchema {
  id: string;
  label: string;
  /** CSS colour of handles and wires of this type. */
  color: string;
  description?: string;
}

export interface NodeSchema {
  /** Stable id written into saved files, e.g. `dlflow:train:train-classifier`. */
  id: string;
  /** Bumped when outputs for the same params change; part of the cache key. */
  version: number;
  name: string;
  category: string;
  description: string;
  inputs: Record<string, PortSchema>;
  outputs: Record<string, PortSchema>;
  params: Record<string, ParamSchema>;
  sideEffects: boolean;
  /** Preview kinds the node may emit, so the UI can reserve space. */
  previews: readonly PreviewKind[];
}

export interface NodeCatalog {
  nodes: NodeSchema[];
  portTypes: PortTypeSchema[];
}

export const PREVIEW_KINDS = ['image-grid', 'curves', 'confusion-matrix', 'table', 'text'] as const;
export type PreviewKind = (typeof PREVIEW_KINDS)[number];
