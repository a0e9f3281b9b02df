import { tokenizeLine } from "../yaml.ts";

/** Text with YAML colours; always text nodes, never markup from the data. */
export function HighlightedLine({ text }: { text: string }) {
  return (
    <>
      {tokenizeLine(text).map((t, i) => (t.kind === "plain" ? t.text : <span key={i} class={`t-${t.kind}`}>{t.text}</span>))}
    </>
  );
}

/** A read-only YAML block with line numbers. */
export function Code({ text, label }: { text: string; label?: string }) {
  const lines = text.replace(/\n$/, "").split("\n");
  return (
    <div class="code" role="region" aria-label={label ?? "content"}>
      <ol class="code-lines">
        {lines.map((line, i) => (
          <li key={i}>
            <span class="ln" aria-hidden="true">{i + 1}</span>
            <span class="lc"><HighlightedLine text={line} /></span>
          </li>
        ))}
      </ol>
    </div>
  );
}
