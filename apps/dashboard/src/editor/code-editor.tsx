import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { javascript } from '@codemirror/lang-javascript';
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { type Diagnostic, lintGutter, setDiagnostics } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from '@codemirror/view';
import { useEffect, useRef } from 'react';
import type { CompileLocation } from './compile-error.js';

/**
 * CodeMirror 6 for function sources. Loaded with React.lazy by the function page only, so
 * the editor (most of the dashboard's bytes) is fetched when someone edits a function.
 */
export default function CodeEditor({ value, onChange, error, label }: { value: string; onChange: (v: string) => void; error?: CompileLocation; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView>(undefined);
  const changed = useRef(onChange);
  useEffect(() => {
    changed.current = onChange;
  }, [onChange]);

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightActiveLine(),
          history(),
          indentOnInput(),
          bracketMatching(),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          javascript({ typescript: true }),
          lintGutter(),
          keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
          EditorView.contentAttributes.of({ 'aria-label': label }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) changed.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => v.destroy();
    // The document is owned by the editor after creation; `value` seeds it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const diagnostics: Diagnostic[] = [];
    if (error && error.line <= v.state.doc.lines) {
      const line = v.state.doc.line(error.line);
      const from = Math.min(line.from + error.column - 1, line.to);
      diagnostics.push({ from, to: Math.max(from, Math.min(from + 1, line.to)), severity: 'error', message: error.message });
    }
    v.dispatch(setDiagnostics(v.state, diagnostics));
  }, [error]);

  return <div className="code-editor" ref={host} />;
}
