/** Backend, document path, dirty state, validation summary, run phase. */
import { basename } from '../model/recent.ts';
import { useCatalogStore } from '../stores/catalogStore.ts';
import { useDiagnosticsStore } from '../stores/diagnosticsStore.ts';
import { selectDirty, useEditorStore } from '../stores/editorStore.ts';
import { useRunStore } from '../stores/runStore.ts';
import { useBackendStore } from '../stores/backendStore.ts';

export function StatusBar() {
  const path = useEditorStore((s) => s.path);
  const dirty = useEditorStore(selectDirty);
  const backend = useBackendStore((s) => s);
  const runBackend = useRunStore((s) => s.backend);
  const phase = useRunStore((s) => s.phase);
  const seconds = useRunStore((s) => s.seconds);
  const errors = useDiagnosticsStore((s) => s.all.filter((d) => d.severity === 'error').length);
  const warnings = useDiagnosticsStore((s) => s.all.filter((d) => d.severity === 'warning').length);
  const validationError = useDiagnosticsStore((s) => s.error);
  const nodeTypes = useCatalogStore((s) => s.index.catalog.nodes.length);
  return (
    <footer className="dl-statusbar" data-testid="status-bar">
      <span title={path ?? 'not saved yet'} data-testid="document-path">
        {path ? basename(path) : 'untitled.dlflow'}
      </span>
      <span className={`dl-dirty${dirty ? ' is-dirty' : ''}`} data-testid="dirty-indicator" data-dirty={dirty ? 'true' : 'false'}>
        {dirty ? '● unsaved' : 'saved'}
      </span>
      <span data-testid="validation-summary" className={errors ? 'dl-error-text' : warnings ? 'dl-warn-text' : ''}>
        {validationError ? `validation unavailable: ${validationError}` : errors || warnings ? `${errors} error(s), ${warnings} warning(s)` : 'valid'}
      </span>
      <span data-testid="run-phase">
        run: {phase}
        {seconds !== undefined && phase !== 'running' && phase !== 'starting' ? ` (${seconds.toFixed(1)} s)` : ''}
      </span>
      <span className="dl-spacer" />
      <span>{nodeTypes} node types</span>
      <span data-testid="connection" className={backend.connection === 'open' ? '' : 'dl-warn-text'}>
        {backend.connection === 'open' ? 'connected' : backend.connection === 'connecting' ? 'connecting…' : 'disconnected — reconnecting'}
      </span>
      <span data-testid="backend" title={backend.detail ?? backend.error}>
        backend: {runBackend ?? backend.backend ?? (backend.error ? 'unavailable' : '…')}
      </span>
    </footer>
  );
}
