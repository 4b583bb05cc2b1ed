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

  /** Text typed but not applied yet (waiting for the debounce). */
  const pending = useRef<string | undefined>(undefined);
  const mounted = useRef(true);

  /** Parses `text` with the engine and, if usable, makes it the document (one undo step). */
  const apply = useCallback(async (text: string) => {
    if (pending.current === text) pending.current = undefined;
    const report = (s: string) => mounted.current && setStatus(s);
    try {
      const opened = await engine().call('parseDocument', { text });
      const blocking = opened.diagnostics.filter((d) => d.severity === 'error' && (d.code === 'malformed-json' || d.code === 'invalid-document' || d.code === 'newer-version'));
      if (mounted.current) setParseDiags(blocking);
      if (blocking.length > 0) {
        report(`not applied: ${blocking[0].message}`);
        return;
      }
      applied.current = serializeDocument(opened.document);
      editDocument(() => opened.document, 'json-text');
      report('applied');
    } catch (err) {
      report(`not applied: ${errorText(err)}`);
    }
  }, []);

  const onChange = useCallback(
    (value: string | undefined) => {
      const text = value ?? '';
      clearTimeout(timer.current);
      if (text === applied.current) {
        pending.current = undefined;
        return;
      }
      pending.current = text;
      setStatus('editing…');
      timer.current = setTimeout(() => void apply(text), PARSE_DEBOUNCE_MS);
    },
    [apply],
  );

  // Leaving the JSON view right after typing still applies the edit (flush, don't drop).
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      clearTimeout(timer.current);
      const text = pending.current;
      if (text !== undefined) void apply(text);
    };
  }, [apply]);

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
