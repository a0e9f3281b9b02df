/** One line of a diff: kept (" "), removed ("-") or added ("+"). */
export interface DiffLine {
  readonly op: " " | "-" | "+";
  readonly text: string;
}

export interface UnifiedDiff {
  /** Hunks in unified format (`@@ -a,b +c,d @@` headers), at most `maxLines` lines. */
  readonly text: string;
  readonly added: number;
  readonly removed: number;
  /** Diff lines left out to respect `maxLines`. */
  readonly omitted: number;
}

// Above this many cells the LCS table costs too much; the middle is then shown as replaced.
const MAX_CELLS = 4_000_000;

function lines(s: string): string[] {
  if (s === "") return [];
  const out = s.split("\n");
  if (out[out.length - 1] === "") out.pop();
  return out;
}

/** Line diff by longest common subsequence, after trimming the common prefix and suffix. */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = lines(before);
  const b = lines(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const out: DiffLine[] = a.slice(0, start).map((text) => ({ op: " ", text }));
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  if (midA.length * midB.length > MAX_CELLS) {
    for (const text of midA) out.push({ op: "-", text });
    for (const text of midB) out.push({ op: "+", text });
  } else {
    out.push(...lcsDiff(midA, midB));
  }
  for (const text of a.slice(endA)) out.push({ op: " ", text });
  return out;
}

function lcsDiff(a: readonly string[], b: readonly string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  // table[i][j] = LCS length of a[i..] and b[j..], flattened.
  const table = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => table[i * (m + 1) + j] ?? 0;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * (m + 1) + j] = a[i] === b[j] ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1));
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: " ", text: a[i++] ?? "" });
      j++;
    } else if (at(i + 1, j) >= at(i, j + 1)) out.push({ op: "-", text: a[i++] ?? "" });
    else out.push({ op: "+", text: b[j++] ?? "" });
  }
  while (i < n) out.push({ op: "-", text: a[i++] ?? "" });
  while (j < m) out.push({ op: "+", text: b[j++] ?? "" });
  return out;
}

/** A unified diff with `context` lines around each change, cut after `maxLines` lines. */
export function unifiedDiff(before: string, after: string, { context = 3, maxLines = 60 } = {}): UnifiedDiff {
  const diff = diffLines(before, after);
  const added = diff.filter((d) => d.op === "+").length;
  const removed = diff.filter((d) => d.op === "-").length;
  const changed = diff.map((d, i) => (d.op === " " ? -1 : i)).filter((i) => i >= 0);
  // Group changes whose context windows touch into hunks.
  const hunks: { from: number; to: number }[] = [];
  for (const i of changed) {
    const from = Math.max(0, i - context);
    const to = Math.min(diff.length, i + context + 1);
    const last = hunks[hunks.length - 1];
    if (last && from <= last.to) last.to = to;
    else hunks.push({ from, to });
  }
  const out: string[] = [];
  let omitted = 0;
  // Line numbers before the hunk, in the old and the new text.
  const oldBefore = (k: number) => diff.slice(0, k).filter((d) => d.op !== "+").length;
  const newBefore = (k: number) => diff.slice(0, k).filter((d) => d.op !== "-").length;
  for (const h of hunks) {
    const body = diff.slice(h.from, h.to);
    const oldLen = body.filter((d) => d.op !== "+").length;
    const newLen = body.filter((d) => d.op !== "-").length;
    const header = `@@ -${oldBefore(h.from) + (oldLen > 0 ? 1 : 0)},${oldLen} +${newBefore(h.from) + (newLen > 0 ? 1 : 0)},${newLen} @@`;
    for (const line of [header, ...body.map((d) => d.op + d.text)]) {
      if (out.length < maxLines) out.push(line);
      else omitted++;
    }
  }
  return { text: out.length ? out.join("\n") + "\n" : "", added, removed, omitted };
}
