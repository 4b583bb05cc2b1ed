/** Finds the node list the CLI hands the engine: `nodes/index.ts`, or a module named by DLFLOW_NODES_MODULE (tests). */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../engine/errors.ts';
import type { NodeType, PortTypeDefinition } from '../engine/node-api.ts';

export interface NodeList {
  nodes: readonly NodeType[];
  portTypes: readonly PortTypeDefinition[];
  /** Where the list came from, for `dlflow info`. */
  source: string;
}

/**
 * Imports `allNodes` and `allPortTypes`. `DLFLOW_NODES_MODULE` (an absolute or cwd-relative path)
 * replaces the built-in list, so CLI tests can run fast stub nodes through the real CLI.
 */
export async function loadNodeList(env: NodeJS.ProcessEnv = process.env): Promise<NodeList> {
  const override = env.DLFLOW_NODES_MODULE;
  const url = override
    ? pathToFileURL(isAbsolute(override) ? override : resolve(override)).href
    : new URL('../../nodes/index.ts', import.meta.url).href;
  if (override && !existsSync(new URL(url))) throw new UserError(`DLFLOW_NODES_MODULE: file not found: ${override}`);
  let mod: { allNodes?: readonly NodeType[]; allPortTypes?: readonly PortTypeDefinition[] };
  try {
    mod = (await import(/* @vite-ignore */ url)) as typeof mod;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (!override && code === 'ERR_MODULE_NOT_FOUND' && !existsSync(new URL(url)))
      throw new Error('the node library (nodes/index.ts) is missing from this installation');
    throw error;
  }
  if (!Array.isArray(mod.allNodes) || !Array.isArray(mod.allPortTypes))
    throw new Error(`${override ?? 'nodes/index.ts'} must export the arrays allNodes and allPortTypes`);
  return { nodes: mod.allNodes, portTypes: mod.allPortTypes, source: override ?? 'nodes/index.ts' };
}
