import type { Diff } from "../types.ts";
import { HighlightedLine } from "./Code.tsx";

const CONTEXT = 3;

/** A diff of a config's content, long unchanged runs folded, plus the other fields that changed. */
export function DiffView({ diff }: { diff: Diff }) {
  const keep = diff.lines.map(() => false);
  diff.lines.forEach((l, i) => {
    if (l.op === " ") return;
    for (let k = Math.max(0, i - CONTEXT); k <= Math.min(diff.lines.length - 1, i + CONTEXT); k++) keep[k] = true;
  });
  const rows: preact.JSX.Element[] = [];
  let folded = 0;
  const flush = (key: string) => {
    if (folded > 0) rows.push(<tr key={key} class="fold"><td colSpan={3}>… {folded} unchanged line{folded === 1 ? "" : "s"}</td></tr>);
    folded = 0;
  };
  diff.lines.forEach((l, i) => {
    if (!keep[i]) {
      folded++;
      return;
    }
    flush(`f${i}`);
    const cls = l.op === "+" ? "add" : l.op === "-" ? "del" : "ctx";
    rows.push(
      <tr key={i} class={cls}>
        <td class="dn">{l.oldLine ?? ""}</td>
        <td class="dn">{l.newLine ?? ""}</td>
        <td class="lc"><span class="op">{l.op}</span><HighlightedLine text={l.text} /></td>
      </tr>,
    );
  });
  flush("end");
  return (
    <div class="diff">
      <p class="muted">
        {diff.from ? `version ${diff.from.version} → ${diff.to.version}` : `version ${diff.to.version} (new)`}: <span class="plus">+{diff.added}</span> <span class="minus">−{diff.removed}</span>
      </p>
      {diff.fields.length > 0 && (
        <ul class="fields">
          {diff.fields.map((f) => (
            <li key={f.field}><code>{f.field}</code>: <del>{f.before || "(empty)"}</del> → <ins>{f.after || "(empty)"}</ins></li>
          ))}
        </ul>
      )}
      {diff.lines.some((l) => l.op !== " ") ? (
        <div class="scroll"><table class="diff-table"><tbody>{rows}</tbody></table></div>
      ) : (
        <p class="muted">The content did not change.</p>
      )}
    </div>
  );
}
