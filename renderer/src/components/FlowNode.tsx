/** The one node component: drawn entirely from the node's schema and its run state. */
import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo, useMemo } from 'react';
import type { DocNode, NodeSchema, ParamSchema } from '../../../main/protocol/index.ts';
import { setNodeParam } from '../actions/editActions.ts';
import { categoryColor, portColor } from '../model/catalog.ts';
import type { FlowNode as FlowNodeType } from '../model/flowConversion.ts';
import { useCatalogStore } from '../stores/catalogStore.ts';
import { nodeDiagnostics, useDiagnosticsStore } from '../stores/diagnosticsStore.ts';
import { useEditorStore } from '../stores/editorStore.ts';
import { useNodeRun } from '../stores/runStore.ts';
import { openDialog } from '../stores/uiStore.ts';
import { PreviewView } from './previews/PreviewViews.tsx';
import { ParamWidget } from './widgets/ParamWidgets.tsx';

function formatEta(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '';
  if (s < 60) return ` · ${Math.ceil(s)} s left`;
  return ` · ${Math.floor(s / 60)} min ${Math.round(s % 60)} s left`;
}

function Ports({ node, schema }: { node: DocNode; schema: NodeSchema }) {
  const index = useCatalogStore((s) => s.index);
  const inputs = Object.entries(schema.inputs);
  const outputs = Object.entries(schema.outputs);
  const rows = Math.max(inputs.length, outputs.length);
  if (rows === 0) return null;
  return (
    <div className="dl-ports">
      {Array.from({ length: rows }, (_, i) => {
        const inp = inputs[i];
        const out = outputs[i];
        return (
          <div className="dl-port-row" key={i}>
            <div className="dl-port in">
              {inp && (
                <>
                  <Handle
                    type="target"
                    position={Position.Left}
                    id={inp[0]}
                    className="dl-handle"
                    data-testid={`handle-in-${node.id}-${inp[0]}`}
                    style={{ background: portColor(index, inp[1].type) }}
                    title={`${inp[1].label ?? inp[0]}: ${index.portTypes.get(inp[1].type)?.label ?? inp[1].type}${inp[1].optional ? ' (optional)' : ''}`}
                  />
                  <span>
                    {inp[1].label ?? inp[0]}
                    {inp[1].optional ? '?' : ''}
                  </span>
                </>
              )}
            </div>
            <div className="dl-port out">
              {out && (
                <>
                  <span>{out[1].label ?? out[0]}</span>
                  <Handle
                    type="source"
                    position={Position.Right}
                    id={out[0]}
                    className="dl-handle"
                    data-testid={`handle-out-${node.id}-${out[0]}`}
                    style={{ background: portColor(index, out[1].type) }}
                    title={`${out[1].label ?? out[0]}: ${index.portTypes.get(out[1].type)?.label ?? out[1].type}`}
                  />
                </>
              )}
            </div>
          </div>
        );
      })}
    </div>
  );
}

function InlineParams({ node, schema, invalidParams }: { node: DocNode; schema: NodeSchema; invalidParams: ReadonlySet<string> }) {
  const inline = Object.entries(schema.params).filter(([, p]) => p.inline);
  if (inline.length === 0) return null;
  return (
    <div className="dl-inline-params">
      {inline.map(([key, p]) => (
        <label className="dl-inline-param" key={key}>
          <span className="dl-inline-label">{p.label ?? key}</span>
          <ParamWidget
            paramKey={key}
            schema={p as ParamSchema}
            value={key in node.params ? node.params[key] : p.default}
            onChange={(v) => setNodeParam(node.id, key, v)}
            compact
            invalid={invalidParams.has(key)}
          />
        </label>
      ))}
    </div>
  );
}

/** A node whose type the engine does not know: kept (with its params) so nothing is lost. */
function PlaceholderBody({ node }: { node: DocNode }) {
  const edges = useEditorStore((s) => s.history.present.edges);
  const { ins, outs } = useMemo(() => {
    const ins = [...new Set(edges.filter((e) => e.target === node.id).map((e) => e.targetHandle))];
    const outs = [...new Set(edges.filter((e) => e.source === node.id).map((e) => e.sourceHandle))];
    return { ins, outs };
  }, [edges, node.id]);
  const rows = Math.max(ins.length, outs.length);
  return (
    <>
      <div className="dl-ports">
        {Array.from({ length: rows }, (_, i) => (
          <div className="dl-port-row" key={i}>
            <div className="dl-port in">
              {ins[i] && (
                <>
                  <Handle type="target" position={Position.Left} id={ins[i]} className="dl-handle" isConnectable={false} />
                  <span>{ins[i]}</span>
                </>
              )}
            </div>
            <div className="dl-port out">
              {outs[i] && (
                <>
                  <span>{outs[i]}</span>
                  <Handle type="source" position={Position.Right} id={outs[i]} className="dl-handle" isConnectable={false} />
                </>
              )}
            </div>
          </div>
        ))}
      </div>
      <div className="dl-node-error">Unknown node type — kept as a placeholder with its params; it cannot run.</div>
      <pre className="dl-placeholder-params nowheel">{JSON.stringify(node.params, null, 1)}</pre>
    </>
  );
}

export const FlowNode = memo(function FlowNode({ id, data, selected }: NodeProps<FlowNodeType>) {
  const node = data.node;
  const schema = useCatalogStore((s) => s.index.byId.get(node.type));
  const run = useNodeRun(id);
  const diagnostics = useDiagnosticsStore((s) => nodeDiagnostics(s, id));
  const invalidParams = useMemo(() => new Set(diagnostics.filter((d) => d.param).map((d) => d.param!)), [diagnostics]);
  const color = schema ? categoryColor(schema.category) : '#777';
  const title = node.label ?? schema?.name ?? node.type;
  const showProgress = run.status === 'running' || (run.fraction !== undefined && run.status === 'queued');
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const warnings = diagnostics.filter((d) => d.severity === 'warning');
  return (
    <div
      className={`dl-node status-${run.status}${selected ? ' selected' : ''}${!schema ? ' placeholder' : ''}${errors.length ? ' has-diagnostics' : ''}`}
      data-testid={`node-${id}`}
      style={{ ['--cat-color' as string]: color }}
    >
      <header className="dl-node-header" title={schema?.description ?? node.type}>
        <span className="dl-node-title">{title}</span>
        <span className={`dl-badge status-${run.status}`} data-testid={`node-status-${id}`}>
          {run.status}
        </span>
      </header>
      {node.label && schema && <div className="dl-node-subtitle">{schema.name}</div>}
      {schema ? (
        <>
          <Ports node={node} schema={schema} />
          <InlineParams node={node} schema={schema} invalidParams={invalidParams} />
        </>
      ) : (
        <PlaceholderBody node={node} />
      )}
      {showProgress && (
        <div className="dl-progress" data-testid={`node-progress-${id}`}>
          <div className="dl-progress-bar" style={{ width: `${Math.round((run.fraction ?? 0) * 100)}%` }} />
          <span className="dl-progress-note">
            {Math.round((run.fraction ?? 0) * 100)}%{run.note ? ` · ${run.note}` : ''}
            {formatEta(run.etaSeconds)}
          </span>
        </div>
      )}
      {run.status === 'done' && run.seconds !== undefined && (
        <div className="dl-node-meta">
          {run.seconds.toFixed(2)} s{run.summary ? ` · ${run.summary}` : ''}
        </div>
      )}
      {run.status === 'failed' && run.error && (
        <div className="dl-node-error" data-testid={`node-error-${id}`}>
          {run.error.param ? `[${run.error.param}] ` : run.error.port ? `[${run.error.port}] ` : ''}
          {run.error.message}
        </div>
      )}
      {(errors.length > 0 || warnings.length > 0) && (
        <ul className="dl-node-diagnostics" data-testid={`node-diagnostics-${id}`}>
          {[...errors, ...warnings].slice(0, 4).map((d, i) => (
            <li key={i} className={d.severity}>
              {d.message}
            </li>
          ))}
        </ul>
      )}
      {run.previewOrder.length > 0 && (
        <div className="dl-previews">
          {run.previewOrder.map((kind) => {
            const payload = run.previews[kind];
            if (!payload) return null;
            return (
              <div
                role="button"
                tabIndex={0}
                key={kind}
                className="dl-preview nodrag"
                title="Click to enlarge"
                onClick={() => openDialog({ kind: 'preview', nodeId: id, preview: kind })}
              >
                {payload.title && <div className="dl-preview-title">{payload.title}</div>}
                <PreviewView payload={payload} nodeId={id} />
              </div>
            );
          })}
        </div>
      )}
    </div>
  );
});
