/** Params of the selected node, each with the widget its kind calls for. */
import type { Diagnostic, DocNode, NodeSchema, ParamSchema } from '../../../main/protocol/index.ts';
import { setNodeLabel, setNodeParam } from '../actions/editActions.ts';
import { categoryColor } from '../model/catalog.ts';
import { useCatalogStore } from '../stores/catalogStore.ts';
import { nodeDiagnostics, useDiagnosticsStore } from '../stores/diagnosticsStore.ts';
import { useEditorStore } from '../stores/editorStore.ts';
import { useNodeRun } from '../stores/runStore.ts';
import { describeRange, ParamWidget } from './widgets/ParamWidgets.tsx';
import { firstLine } from './Palette.tsx';

function formatDefault(p: ParamSchema): string {
  if (p.kind === 'code') return p.default.trim() === '' ? '(empty)' : '(code)';
  return typeof p.default === 'string' ? (p.default === '' ? '""' : p.default) : String(p.default);
}

function ParamRow({ node, keyName, schema, diagnostics }: { node: DocNode; keyName: string; schema: ParamSchema; diagnostics: readonly Diagnostic[] }) {
  const value = keyName in node.params ? node.params[keyName] : schema.default;
  const problems = diagnostics.filter((d) => d.param === keyName);
  const range = describeRange(schema);
  const isDefault = JSON.stringify(value) === JSON.stringify(schema.default);
  return (
    <div className={`dl-param${problems.length ? ' invalid' : ''}`}>
      <div className="dl-param-head">
        <label className="dl-param-label" title={keyName}>
          {schema.label ?? keyName}
        </label>
        <span className="dl-param-kind">{schema.kind}</span>
        {!isDefault && (
          <button type="button" className="dl-link" title={`Reset to default: ${formatDefault(schema)}`} onClick={() => setNodeParam(node.id, keyName, schema.default)}>
            reset
          </button>
        )}
      </div>
      <ParamWidget paramKey={keyName} schema={schema} value={value} onChange={(v) => setNodeParam(node.id, keyName, v)} invalid={problems.length > 0} />
      <div className="dl-param-help">
        {range && <span>Range: {range}. </span>}
        <span>Default: {formatDefault(schema)}.</span>
        {schema.description && <div>{schema.description}</div>}
      </div>
      {problems.map((d, i) => (
        <div key={i} className="dl-error-text">
          {d.message}
        </div>
      ))}
    </div>
  );
}

function UnknownParams({ node, schema }: { node: DocNode; schema: NodeSchema }) {
  const extra = Object.keys(node.params).filter((k) => !(k in schema.params));
  if (extra.length === 0) return null;
  return (
    <div className="dl-param invalid">
      <div className="dl-param-label">Params this node type does not know</div>
      <pre className="dl-placeholder-params">{JSON.stringify(Object.fromEntries(extra.map((k) => [k, node.params[k]])), null, 1)}</pre>
    </div>
  );
}

function NodeInspector({ node }: { node: DocNode }) {
  const schema = useCatalogStore((s) => s.index.byId.get(node.type));
  const diagnostics = useDiagnosticsStore((s) => nodeDiagnostics(s, node.id));
  const run = useNodeRun(node.id);
  return (
    <>
      <header className="dl-inspector-head" style={{ borderColor: schema ? categoryColor(schema.category) : '#777' }}>
        <div className="dl-inspector-title">{schema?.name ?? `Unknown type`}</div>
        <div className="dl-muted">
          {node.id} · {node.type}
        </div>
      </header>
      <label className="dl-param">
        <span className="dl-param-label">Label</span>
        <input className="dl-input" data-testid="node-label" placeholder={schema?.name ?? node.type} value={node.label ?? ''} onChange={(e) => setNodeLabel(node.id, e.target.value)} />
      </label>
      {schema ? (
        <>
          {schema.description && <p className="dl-description">{firstLine(schema.description)}</p>}
          {Object.keys(schema.params).length === 0 && <div className="dl-muted">This node has no params.</div>}
          {Object.entries(schema.params).map(([k, p]) => (
            <ParamRow key={k} node={node} keyName={k} schema={p} diagnostics={diagnostics} />
          ))}
          <UnknownParams node={node} schema={schema} />
        </>
      ) : (
        <>
          <p className="dl-error-text">The engine does not know “{node.type}”. The node is kept as it was saved, with its params:</p>
          <pre className="dl-placeholder-params">{JSON.stringify(node.params, null, 2)}</pre>
        </>
      )}
      {diagnostics
        .filter((d) => !d.param)
        .map((d, i) => (
          <div key={i} className={d.severity === 'error' ? 'dl-error-text' : 'dl-warn-text'}>
            {d.message}
          </div>
        ))}
      {run.status !== 'idle' && (
        <div className="dl-muted">
          Last run: {run.status}
          {run.seconds !== undefined ? ` in ${run.seconds.toFixed(2)} s` : ''}
          {run.summary ? ` — ${run.summary}` : ''}
        </div>
      )}
    </>
  );
}

export function Inspector() {
  // Narrow selectors: moving other nodes does not re-render the inspector.
  const count = useEditorStore((s) => s.selectedNodes.size);
  const node = useEditorStore((s) => (s.selectedNodes.size === 1 ? s.history.present.nodes.find((n) => s.selectedNodes.has(n.id)) : undefined));
  const nodeCount = useEditorStore((s) => s.history.present.nodes.length);
  const edgeCount = useEditorStore((s) => s.history.present.edges.length);
  return (
    <aside className="dl-inspector" data-testid="inspector">
      {node ? (
        <NodeInspector key={node.id} node={node} />
      ) : count > 1 ? (
        <div className="dl-muted">{count} nodes selected. Use the align buttons in the toolbar, Ctrl+D to duplicate or Delete to remove.</div>
      ) : (
        <div className="dl-muted">
          Select a node to edit its params.
          <br />
          <br />
          {nodeCount} node(s), {edgeCount} wire(s).
        </div>
      )}
    </aside>
  );
}
