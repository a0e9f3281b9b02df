import { useRef } from "preact/hooks";
import type { Problem } from "../types.ts";
import { HighlightedLine } from "./Code.tsx";

export interface EditorHandle {
  goto(line: number): void;
}

/**
 * A YAML editor: a plain <textarea> over a highlighted copy of its text, with line numbers. The
 * three grow with the text and scroll together in one box, so they never drift apart. Lines
 * with problems are marked in the gutter and in the text.
 */
export function Editor({ value, onInput, problems, warnings, readOnly, label, handle }: {
  value: string;
  onInput: (v: string) => void;
  problems: readonly Problem[];
  warnings: readonly Problem[];
  readOnly: boolean;
  label: string;
  handle?: { current: EditorHandle | null };
}) {
  const area = useRef<HTMLTextAreaElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const lines = value.split("\n");
  const bad = new Map<number, string>();
  for (const w of warnings) bad.set(w.line, "warn");
  for (const p of problems) bad.set(p.line, "bad");
  const width = Math.max(40, ...lines.map((l) => l.length + 2));
  if (handle) {
    handle.current = {
      goto: (line) => {
        const t = area.current;
        if (!t) return;
        const offset = lines.slice(0, Math.max(0, line - 1)).reduce((n, l) => n + l.length + 1, 0);
        t.focus();
        t.setSelectionRange(offset, offset);
        const lineBox = box.current?.querySelector<HTMLElement>(`[data-line="${line}"]`);
        lineBox?.scrollIntoView({ block: "nearest" });
      },
    };
  }
  const onKeyDown = (e: KeyboardEvent) => {
    // Tab indents by two spaces (YAML has no tabs) instead of leaving the editor.
    if (e.key !== "Tab" || e.shiftKey || readOnly) return;
    e.preventDefault();
    const t = e.currentTarget as HTMLTextAreaElement;
    t.setRangeText("  ", t.selectionStart, t.selectionEnd, "end");
    onInput(t.value);
  };
  return (
    <div class={`editor${readOnly ? " read-only" : ""}`} ref={box}>
      <div class="editor-inner">
        <ol class="gutter" aria-hidden="true">
          {lines.map((_, i) => <li key={i} class={bad.get(i + 1)} data-line={i + 1}>{i + 1}</li>)}
        </ol>
        <div class="editor-text" style={{ width: `${width}ch` }}>
          <pre class="editor-hl" aria-hidden="true">
            {lines.map((l, i) => <div key={i} class={bad.get(i + 1)}><HighlightedLine text={l} />{"\n"}</div>)}
          </pre>
          <textarea
            ref={area}
            aria-label={label}
            value={value}
            rows={lines.length}
            wrap="off"
            spellcheck={false}
            autocomplete="off"
            autocapitalize="off"
            readOnly={readOnly}
            aria-readonly={readOnly}
            onInput={(e) => onInput((e.currentTarget as HTMLTextAreaElement).value)}
            onKeyDown={onKeyDown}
          />
        </div>
      </div>
    </div>
  );
}
