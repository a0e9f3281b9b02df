// Docs that run (issue 25, point 4): every curl example of docs/api.md and of the README is
// executed, top to bottom, against a fresh server like `make run` starts (a repository made by
// `configserver init` from config-repo-template/, default settings), and must answer as written.
// The examples are read from the Markdown here (test/helpers/docExamples.ts says the convention).
import { execFile } from "node:child_process";
import { readFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test, { type ExecutionContext } from "ava";
import { runCli } from "./helpers/cli.ts";
import { answerPattern, runnableExamples, type Example } from "./helpers/docExamples.ts";
import { personEnv, tempDir } from "./helpers/git.ts";
import { withServer } from "./helpers/server.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** Printed after each command with its exit status: nothing a document's answer contains. */
const MARK = "\x1edocs-example-end";

/** Runs the examples in one bash, in order; returns each one's output and exit status. */
function runAll(examples: readonly Example[], address: string, cwd: string): Promise<{ output: string; status: number }[]> {
  const script = ["exec 2>&1", ...examples.map((e) => `${e.command.replaceAll("localhost:8899", address).replaceAll("127.0.0.1:8899", address)}\nprintf '\\n${MARK} %s\\n' "$?"`)].join("\n");
  return new Promise((resolve, reject) => {
    execFile("bash", ["-c", script], { cwd, env: { ...process.env, ...personEnv }, encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error && typeof error.code !== "number") return reject(error);
      const parts = stdout.split(new RegExp(`\\n${MARK} (\\d+)\\n`));
      const out: { output: string; status: number }[] = [];
      for (let i = 0; i + 1 < parts.length; i += 2) out.push({ output: parts[i] ?? "", status: Number(parts[i + 1]) });
      resolve(out);
    });
  });
}

/** An answer the document does not show must at least not be an error. */
function looksFailed(output: string): string | undefined {
  try {
    const body = JSON.parse(output) as { code?: unknown; error?: unknown };
    if (body.error !== undefined) return `error ${JSON.stringify(body.error)}`;
    if (body.code !== undefined && body.code !== "Accept") return `code ${JSON.stringify(body.code)}`;
  } catch {
    // Not JSON (Prometheus text, a grep): its exit status says enough.
  }
  return output.trim() === "" ? "no output" : undefined;
}

async function runDocument(t: ExecutionContext, file: string, atLeast: number): Promise<void> {
  const examples = runnableExamples(readFileSync(join(ROOT, file), "utf8"));
  t.true(examples.length >= atLeast, `${file}: ${examples.length} runnable examples found`);
  const dir = tempDir("cs-docs-");
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // The folder stands for a clone: `make run` serves data/config-repo, and bin/ is the clone's.
  const repo = join(dir, "data", "config-repo");
  symlinkSync(join(ROOT, "bin"), join(dir, "bin"));
  const init = await runCli(["init", repo], { env: personEnv });
  t.is(init.code, 0, init.stderr);
  const s = await withServer(t, { repo });
  const results = await runAll(examples, s.url.replace(/^http:\/\//, ""), dir);
  t.is(results.length, examples.length, `${file}: every example ran (the shell stopped after ${results.length})`);
  // Every example is checked and every mismatch reported at once: a document is fixed in one go.
  const mismatches: string[] = [];
  examples.forEach((e, i) => {
    const r = results[i];
    if (!r) return;
    const where = `${file}:${e.line}: ${e.command.split("\n")[0]}`;
    if (r.status !== 0) mismatches.push(`${where}\n  exited ${r.status}: ${r.output}`);
    else if (e.answer === undefined) {
      // Setting a variable prints nothing; a request must answer something that is not an error.
      const failed = /^curl /.test(e.command) ? looksFailed(r.output) : undefined;
      if (failed) mismatches.push(`${where}\n  shows no answer, and answered with ${failed}: ${r.output}`);
    } else if (!answerPattern(e.answer).test(r.output.trim())) {
      mismatches.push(`${where}\n  answered          ${r.output.trim()}\n  the document says ${e.answer}`);
    }
  });
  t.deepEqual(mismatches, [], mismatches.join("\n\n"));
}

test("every curl example of docs/api.md runs top to bottom against a fresh `make run` server and answers as written", async (t) => {
  await runDocument(t, "docs/api.md", 30);
});

test("every curl example of the README runs top to bottom against a fresh `make run` server and answers as written", async (t) => {
  await runDocument(t, "README.md", 3);
});
