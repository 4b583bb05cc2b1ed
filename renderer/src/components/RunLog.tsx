/** The run log: each node's status and time, and the messages of the run; errors link to nodes. */
import { useEffect, useMemo, useRef } from 'react';
import { useFocusNode } from '../hooks/useFocusNode.ts';
import { useEditorStore } from '../stores/editorStore.ts';
import { useRunStore } from '../stores/runStore.ts';
import { setUi, useUiStore } from '../stores/uiStore.ts';
import { useDiagnosticsStore } from '../stores/diagnosticsStore.ts';

function clock(t: number): string {
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
}

export function RunLog() {
  const show = useUiStore((s) => s.showLog);
  const log = useRunStore((s) => s.log);
  const nodes = useRunStore((s) => s.nodes);
  // A string key of ids and labels: moving nodes leaves it equal, so the log does not re-render.
  const labelKey = useEditorStore((s) => s.history.present.nodes.map((n) => `${n.id}\u0000${n.label ?? n.id}`).join('\u0001'));
  const diagnostics = useDiagnosticsStore((s) => s.all);
  const focus = useFocusNode();
  const listRef = useRef<HTMLDivElement>(null);
  const labels = useMemo(
    () => new Map(labelKey === '' ? [] : labelKey.split('\u0001').map((pair) => pair.split('\u0000') as [string, string])),
    [labelKey],
  );
  const rows = useMemo(() => [...labels.keys()].filter((id) => nodes[id] && nodes[id].status !== 'idle'), [labels, nodes]);

  useEffect(() => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [log]);

  return (
    <section className={`dl-runlog${show ? '' : ' collapsed'}`} data-testid="run-log">
      <header className="dl-runlog-head">
        <button type="button" className="dl-link" onClick={() => setUi({ showLog: !show })} data-testid="run-log-toggle">
          {show ? '▾' : '▸'} Run log
        </button>
        <span className="dl-muted">
          {log.length} message(s){diagnostics.length ? ` · ${diagnostics.length} diagnostic(s)` : ''}
        </span>
      </header>
      {show && (
        <div className="dl-runlog-body">
          <div className="dl-runlog-nodes nowheel">
            <table>
              <tbody>
                {rows.map((id) => {
                  const r = nodes[id];
                  return (
                    <tr key={id} className={`status-${r.status}`}>
                      <td>
                        <button type="button" className="dl-link" onClick={() => focus(id)}>
                          {labels.get(id)}
                        </button>
                      </td>
                      <td>
                        <span className={`dl-badge status-${r.status}`}>{r.status}</span>
                      </td>
                      <td>{r.status === 'running' ? `${Math.round((r.fraction ?? 0) * 100)}%` : r.seconds !== undefined ? `${r.seconds.toFixed(2)} s` : ''}</td>
                    </tr>
                  );
                })}
                {diagnostics
                  .filter((d) => d.severity === 'error')
                  .slice(0, 20)
                  .map((d, i) => (
                    <tr key={`d${i}`} className="status-failed">
                      <td>
                        {d.nodeId ? (
                          <button type="button" className="dl-link" onClick={() => focus(d.nodeId!)}>
                            {labels.get(d.nodeId) ?? d.nodeId}
                          </button>
                        ) : (
                          'document'
                        )}
                      </td>
                      <td colSpan={2} className="dl-error-text">
                        {d.message}
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
          <div className="dl-runlog-messages nowheel" ref={listRef}>
            {log.map((l) => (
              <div key={l.seq} className={`dl-log-line ${l.level}`}>
                <span className="dl-muted">{clock(l.time)}</span>{' '}
                {l.nodeId && (
                  <button type="button" className="dl-link" onClick={() => focus(l.nodeId!)}>
                    {labels.get(l.nodeId) ?? l.nodeId}
                  </button>
                )}{' '}
                {l.message}
              </div>
            ))}
            {log.length === 0 && <div className="dl-muted">Press ▶ Run all (Ctrl+Enter) to run the pipeline.</div>}
          </div>
        </div>
      )}
    </section>
  );
}
