// The answer cache reaches the agent record through one port (src/protocols/answerCache.ts,
// memoOf/keepMemo): no other source file reads or writes the record's memo slot. Registries only
// make it, undefined, with a record. Internal: it reads the source tree.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));
const PORT = "protocols/answerCache.ts";
const DECLARED = "domain/agent.ts";

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** Uses of the memo slot in `text` other than making it empty (`repeatMemo: undefined`). */
export function slotUses(text: string): string[] {
  return [...text.matchAll(/.{0,30}\brepeatMemo\b(?!: undefined\b).{0,30}/g)].map((m) => m[0].trim());
}

test("only answerCache.ts reads or writes AgentRecord.repeatMemo", (t) => {
  const found: string[] = [];
  let made = 0;
  for (const path of sourceFiles(SRC)) {
    const file = relative(SRC, path).split("\\").join("/");
    const text = readFileSync(path, "utf8");
    made += (text.match(/\brepeatMemo: undefined\b/g) ?? []).length;
    if (file === PORT || file === DECLARED) continue;
    for (const use of slotUses(text)) found.push(`${file}: ${use}`);
  }
  t.true(made > 0, "the registries make the slot");
  t.deepEqual(found, []);
});

test("the check sees a read and a write, and lets the slot be made", (t) => {
  t.is(slotUses("r = { agentId, repeatMemo: undefined };").length, 0);
  t.is(slotUses("const m = record.repeatMemo as Memo;").length, 1);
  t.is(slotUses("record.repeatMemo = memo;").length, 1);
});
