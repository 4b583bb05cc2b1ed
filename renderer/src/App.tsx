/** The editor shell: toolbar, palette, canvas or JSON, inspector, run log, status bar. */
import { ReactFlowProvider } from '@xyflow/react';
import { lazy, Suspense } from 'react';
import { Canvas } from './components/Canvas.tsx';
import { Dialogs } from './components/Dialogs.tsx';
import { Inspector } from './components/Inspector.tsx';
import { Palette } from './components/Palette.tsx';
import { RunLog } from './components/RunLog.tsx';
import { StatusBar } from './components/StatusBar.tsx';
import { Toasts } from './components/Toasts.tsx';
import { Toolbar } from './components/Toolbar.tsx';
import { useAutosave } from './hooks/useAutosave.ts';
import { useClipboard } from './hooks/useClipboard.ts';
import { useEngineStartup } from './hooks/useEngineStartup.ts';
import { useKeyboardShortcuts } from './hooks/useKeyboardShortcuts.ts';
import { useValidation } from './hooks/useValidation.ts';
import { useDocumentTitle } from './hooks/useDocumentTitle.ts';
import { useUiStore } from './stores/uiStore.ts';

const JsonView = lazy(() => import('./components/JsonView.tsx').then((m) => ({ default: m.JsonView })));

function Shell() {
  useEngineStartup();
  useValidation();
  useAutosave();
  useKeyboardShortcuts();
  useClipboard();
  useDocumentTitle();
  const centre = useUiStore((s) => s.centre);
  return (
    <div className="dl-app">
      <Toolbar />
      <div className="dl-main">
        <Palette />
        <div className="dl-centre">
          <div className="dl-stage">
            <Canvas />
            {centre === 'json' && (
              <div className="dl-json-overlay">
                <Suspense fallback={<div className="dl-muted">Loading editor…</div>}>
                  <JsonView />
                </Suspense>
              </div>
            )}
          </div>
          <RunLog />
        </div>
        <Inspector />
      </div>
      <StatusBar />
      <Dialogs />
      <Toasts />
    </div>
  );
}

export function App() {
  return (
    <ReactFlowProvider>
      <Shell />
    </ReactFlowProvider>
  );
}
