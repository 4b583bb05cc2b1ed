/** Monaco editor for code params (TypeScript highlighting), loaded on demand. */
import Editor from '@monaco-editor/react';
import '../monacoSetup.ts';

export function CodeEditor({ value, language, onChange, height }: {
  value: string;
  language: 'typescript' | 'javascript' | 'json';
  onChange(value: string): void;
  height: number;
}) {
  return (
    <Editor
      height={height}
      language={language}
      value={value}
      theme="vs-dark"
      onChange={(v) => onChange(v ?? '')}
      options={{ minimap: { enabled: false }, fontSize: 12, scrollBeyondLastLine: false, automaticLayout: true, tabSize: 2 }}
    />
  );
}
