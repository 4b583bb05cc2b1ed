/** `dlflow nodes`: the node catalogue — what each node does, its ports and its params. */
import type { NodeCatalog, ParamSchema } from '../../protocol/index.ts';
import { createRegistry } from '../../engine/registry.ts';
import { table, wrap } from '../format.ts';
import { type CliIo, EXIT } from '../io.ts';
import { loadNodeList } from '../load-nodes.ts';

/** `1..1000`, `≥ 0`, `one of a, b`, or '' — what values a param accepts. */
export function paramRange(schema: ParamSchema): string {
  switch (schema.kind) {
    case 'number':
    case 'integer': {
      const { min, max } = schema;
      if (min !== undefined && max !== undefined) return `${min}..${max}`;
      if (min !== undefined) return `≥ ${min}`;
      if (max !== undefined) return `≤ ${max}`;
      return '';
    }
    case 'seed':
      return `0..${2 ** 31 - 1}`;
    case 'enum':
      return `one of ${schema.options.join(', ')}`;
    case 'boolean':
      return 'true/false';
    case 'path':
      return schema.mode === 'folder' ? 'folder' : schema.extensions?.length ? `file (${schema.extensions.join(', ')})` : 'file';
    case 'string':
      return schema.required ? 'non-empty' : '';
    case 'code':
      return schema.language;
    default: {
      const never: never = schema;
      return String((never as ParamSchema).kind);
    }
  }
}

/** First paragraph of a markdown description, on one line, without emphasis marks. */
function firstParagraph(markdown: string): string {
  const para = markdown.trim().split(/\n\s*\n/)[0] ?? '';
  return para.replace(/\s+/g, ' ').replace(/[*_`]/g, '');
}

const showDefault = (value: unknown): string => {
  if (typeof value === 'string') return value.includes('\n') ? '(multi-line)' : JSON.stringify(value);
  return String(value);
};

/** The catalogue as indented text, grouped by category. */
export function formatCatalog(catalog: NodeCatalog): string {
  const out: string[] = [];
  const categories = [...new Set(catalog.nodes.map((n) => n.category))];
  for (const category of categories) {
    out.push(`${category}`);
    for (const node of catalog.nodes.filter((n) => n.category === category)) {
      out.push(`  ${node.name}  ${node.id}${node.sideEffects ? '  (side effects)' : ''}`);
      const about = firstParagraph(node.description);
      // Wrapped at a fixed width so the output is the same on every terminal and in files.
      for (const line of wrap(about, 96)) out.push(`    ${line}`);
      const ports = (r: Record<string, { type: string; optional?: boolean }>): string =>
        Object.entries(r)
          .map(([k, p]) => `${k} (${p.type}${p.optional ? ', optional' : ''})`)
          .join(', ') || 'none';
      out.push(`    inputs: ${ports(node.inputs)}`);
      out.push(`    outputs: ${ports(node.outputs)}`);
      const params = Object.entries(node.params);
      if (params.length === 0) out.push('    params: none');
      else {
        out.push('    params:');
        const rows = params.map(([key, s]) => [
          key,
          s.kind,
          `default ${showDefault(s.default)}`,
          paramRange(s),
          s.description ? firstParagraph(s.description) : (s.label ?? ''),
        ]);
        for (const line of table(rows)) out.push(`      ${line}`);
      }
    }
    out.push('');
  }
  if (catalog.portTypes.length > 0) {
    out.push('port types');
    for (const line of table(catalog.portTypes.map((p) => [p.id, p.label, p.description ? firstParagraph(p.description) : ''])))
      out.push(`  ${line}`);
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** The catalogue as a markdown list by category (README's node section is this output). */
export function catalogMarkdown(catalog: NodeCatalog): string {
  const out: string[] = [];
  const categories = [...new Set(catalog.nodes.map((n) => n.category))];
  for (const category of categories) {
    out.push(`**${category}**`, '');
    for (const node of catalog.nodes.filter((n) => n.category === category))
      out.push(`- **${node.name}** \`${node.id}\` — ${firstParagraph(node.description)}`);
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

export async function nodesCommand(opts: { json?: boolean; markdown?: boolean }, io: CliIo): Promise<number> {
  const nodeList = await loadNodeList(io.env);
  const catalog = createRegistry(nodeList.nodes, nodeList.portTypes).catalog();
  io.stdout.write(
    opts.json ? `${JSON.stringify(catalog, null, 2)}\n` : opts.markdown ? catalogMarkdown(catalog) : formatCatalog(catalog),
  );
  return EXIT.ok;
}
