import { useState } from "preact/hooks";

/** Lines shown before "Show the full message"; longer messages (or longer than LONG characters) are folded. */
const LINES = 3;
const LONG = 280;

/**
 * An agent's failure message (a Kafka error, a stack trace) as prose: it wraps at the width it
 * is given, breaking long tokens only where it must, and folds to a few lines with the full
 * text on demand. Callers give it a full-width row, never a narrow table column.
 */
export function Message({ text }: { text: string }) {
  const [full, setFull] = useState(false);
  if (!text) return <p class="message-text muted">(no message)</p>;
  const long = text.length > LONG || text.split("\n").length > LINES;
  return (
    <div class="message">
      <p class={`message-text${long && !full ? " folded" : ""}`} title={long && !full ? text : undefined}>{text}</p>
      {long && <button type="button" class="link" aria-expanded={full} onClick={() => setFull(!full)}>{full ? "Show less" : "Show the full message"}</button>}
    </div>
  );
}
