// The runnable examples of a Markdown document, read at test time (never copied into a test).
//
// The convention the documents follow (docs/api.md "Conventions" says it for readers):
// - every fenced `console` or `sh` block that contains a `curl` command is run, whole, in the
//   order of the document, in one shell (so `J=…` set in one block serves the next ones);
// - in a `console` block a command starts with `$ ` (a line ending in `\` continues it) and the
//   lines below it, up to the next command, are its answer;
// - in a `sh` block every line that is not a comment is a command (again with `\`), and a comment
//   line starting with `#   ` (three spaces) right after a command is its answer;
// - in an answer `…` stands for any text (commit ids, times, long contents).

export interface Example {
  /** The command as written, continuation lines joined. */
  readonly command: string;
  /** The answer as written, or undefined when the document shows none. */
  readonly answer: string | undefined;
  /** 1-based line of the command in the document. */
  readonly line: number;
}

interface Block {
  readonly info: string;
  readonly lines: readonly string[];
  /** 1-based line of the block's first content line. */
  readonly start: number;
}

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})\s*([\w-]*)/.exec(lines[i] ?? "");
    if (!open) continue;
    const fence = open[1] ?? "```";
    const start = i + 2;
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i] ?? "").startsWith(fence); i++) body.push(lines[i] ?? "");
    out.push({ info: open[2] ?? "", lines: body, start });
  }
  return out;
}

/** Lines from `i` joined while they end in a backslash; returns the command and the next index. */
function joined(lines: readonly string[], i: number, strip: (l: string) => string): { text: string; next: number } {
  let text = strip(lines[i] ?? "");
  while (text.endsWith("\\") && i + 1 < lines.length) {
    i++;
    text = `${text}\n${lines[i] ?? ""}`;
  }
  return { text, next: i + 1 };
}

export function runnableExamples(markdown: string): Example[] {
  const examples: Example[] = [];
  for (const block of blocks(markdown)) {
    if (!["console", "sh"].includes(block.info) || !block.lines.some((l) => /(^|[\s$;|(])curl /.test(l))) continue;
    const { lines } = block;
    let i = 0;
    while (i < lines.length) {
      const line = lines[i] ?? "";
      if (block.info === "console") {
        if (!line.startsWith("$ ")) {
          i++;
          continue;
        }
        const { text, next } = joined(lines, i, (l) => l.slice(2));
        const answer: string[] = [];
        let j = next;
        for (; j < lines.length && !(lines[j] ?? "").startsWith("$ "); j++) answer.push(lines[j] ?? "");
        while (answer.length > 0 && answer[answer.length - 1] === "") answer.pop();
        examples.push({ command: text, answer: answer.length > 0 ? answer.join("\n") : undefined, line: block.start + i });
        i = j;
        continue;
      }
      if (line.trim() === "" || line.trimStart().startsWith("#")) {
        i++;
        continue;
      }
      const { text, next } = joined(lines, i, (l) => l);
      const answer = (lines[next] ?? "").startsWith("#   ") ? (lines[next] ?? "").slice(4) : undefined;
      examples.push({ command: text, answer, line: block.start + i });
      i = answer === undefined ? next : next + 1;
    }
  }
  return examples;
}

/** An answer as written → a pattern the whole real answer must match (`…`: any text). */
export function answerPattern(answer: string): RegExp {
  const parts = answer.trim().split("…").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join("[\\s\\S]*?")}$`);
}
