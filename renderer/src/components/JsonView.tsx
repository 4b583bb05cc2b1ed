/**
 * The raw `.dlflow` JSON in Monaco, two-way: canvas edits rewrite the text, and valid text edits
 * (parsed by the engine, so migrations and checks are the real ones) become undoable edits.
 */
import Editor, { type OnMount } from '@monaco-editor/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Diagnostic } from '../../../main/protocol/index.ts';
import { errorText } from '../actions/documentActions.ts';
import { engine } from '../engine/engineClient.ts';
import { monaco } from '../monacoSetup.ts';
import { documentJsonSchema, lineOfNode } from '../model/documentSchema.ts';
import { serializeDocument } from '../model/serialize.ts';
import { useCatalogStore } from '../stores/catalogStore.ts';
import { useDiagnosticsStore } from '../stores/diagnosticsStore.ts';
import { editDocument, selectDocument, useEditorStore } from '../stores/editorStore.ts';

const MODEL_PATH = 'inmemory://dlflow/document.dlflow.json';
const PARSE_DEBOUNCE_MS = 400;

type Editor = Parameters<OnMount>[0];

function toMarkers(text: string, diags: readonly Diagnostic[]) {
  return diags.map((d) => {
    const line = d.line ?? (d.nodeId ? lineOfNode(text, d.nodeId) : undefined) ?? 1;
    return {
      severity: d.severity === 'error' ? monaco.MarkerSeverity.Error : monaco.MarkerSeverity.Warning,
      message: d.message,
      startLineNumber: line,
      startColumn: d.column ?? 1,
      endLineNumber: line,
      endColumn: d.column ? d.column + 1 : 200,
      source: 'dlflow',
    };
  });
}

export function JsonView() {
  const doc = useEditorStore(selectDocument);
  const catalog = useCatalogStore((s) => s.index.catalog);
  const validation = useDiagnosticsStore((s) => s.all);
  const editorRef = useRef<Editor | null>(null);
  const applied = useRef(serializeDocument(doc));
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const [parseDiags, setParseDiags] = useState<readonly Diagnostic[]>([]);
  const [status, setStatus] = useState('in sync');

  useEffect(() => {
    monaco.json.jsonDefaults.setDiagnosticsOptions({
      validate: true,
      allowComments: false,
      schemas: [{ uri: 'inmemory://dlflow/schema.json', fileMatch: ['*.dlflow.json'], schema: documentJsonSchema(catalog) }],
    });
  }, [catalog]);

  // Canvas → text, unless the text already says the same (our own edit coming back).
  useEffect(() => {
    const text = serializeDocument(doc);
    const ed = editorRef.current;
    if (text === applied.current) return;
    applied.current = text;
    if (ed && ed.getValue() !== text) {
      const model = ed.getModel();
      // pushEditOperations keeps Monaco's own undo usable and the cursor in place.
      if (model) model.pushEditOperations([], [{ range: model.getFullModelRange(), text }], () => null);
      setParseDiags([]);
      setStatus('in sync');
    }
  }, [doc]);

  useEffect(() => {
    const ed = editorRef.current;
    const model = ed?.getModel();
    if (!model) return;
    monaco.editor.setModelMarkers(model, 'dlflow', toMarkers(model.getValue(), [...parseDiags, ...(parseDiags.length ? [] : validation)]));
  }, [parseDiags, validation]);

  const onChange = useCallback((value: string | undefined) => {
    const text = value ?? '';
    clearTimeout(timer.current);
    if (text === applied.current) return;
    setStatus('editing…');
    timer.current = setTimeout(async () => {
      try {
        const opened = await engine().call('parseDocument', { text });
        const blocking = opened.diagnostics.filter((d) => d.severity === 'error' && (d.code === 'malformed-json' || d.code === 'invalid-document' || d.code === 'newer-version'));
        setParseDiags(blocking);
        if (blocking.length > 0) {
          setStatus(`not applied: ${blocking[0].message}`);
          return;
        }
        applied.current = serializeDocument(opened.document);
        editDocument(() => opened.document, 'json-text');
        setStatus('applied');
      } catch (err) {
        setStatus(`not applied: ${errorText(err)}`);
      }
    }, PARSE_DEBOUNCE_MS);
  }, []);

  useEffect(() => () => clearTimeout(timer.current), []);

  return (
    <div className="dl-json-view" data-testid="json-view">
      <div className="dl-json-status" data-testid="json-status">
        .dlflow JSON — {status}
      </div>
      <Editor
        height="100%"
        language="json"
        path={MODEL_PATH}
        defaultValue={applied.current}
        theme="vs-dark"
        onMount={(ed) => {
          editorRef.current = ed;
          if (ed.getValue() !== applied.current) ed.setValue(applied.current);
        }}
        onChange={onChange}
        options={{ minimap: { enabled: false }, fontSize: 12, automaticLayout: true, tabSize: 2, scrollBeyondLastLine: false }}
      />
    </div>
  );
}
