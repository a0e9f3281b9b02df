import { writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { Option, type Command } from "commander";
import { diffRepoContent, renderPreview, type ChangeSet } from "../domain/preview.ts";
import type { Problem } from "../domain/types.ts";
import { formatProblems, type ProblemFormat } from "../problemFormat.ts";
import { readCommitTree, resolveCommit } from "../store/commitTree.ts";
import { Git } from "../store/git.ts";
import { notForV2Warnings } from "../store/notForV2Warnings.ts";
import { readRepoContent, type RepoContent } from "../store/repoContent.ts";
import { readWorkingTree } from "../store/workingTree.ts";

export interface ValidateOptions {
  readonly format: ProblemFormat;
  /** Preview what the checked tree changes relative to this revision. */
  readonly base?: string;
  /** Check this commit instead of the working tree. */
  readonly head?: string;
  /** Write the Markdown preview here instead of stdout. */
  readonly previewFile?: string;
}

export interface ValidateResult {
  readonly content: RepoContent;
  /** Served anyway, so they do not change the exit code. */
  readonly warnings: readonly Problem[];
  readonly output: string;
  readonly preview?: { readonly markdown: string; readonly changes: ChangeSet };
}

/** Checks DIR (working tree, or a commit) with the server's own validation; optionally previews the change. */
export async function runValidate(dir: string, o: ValidateOptions): Promise<ValidateResult> {
  const git = new Git(dir);
  const files = o.head ? await readCommitTree(git, o.head) : await readWorkingTree(dir);
  const content = readRepoContent(files);
  const counts = { configs: content.configs.length, instanceConfigs: content.instanceConfigs.length, groups: content.groups.length };
  const warnings = notForV2Warnings(files, content);
  let preview: ValidateResult["preview"];
  if (o.base) {
    const baseCommit = await resolveCommit(git, o.base);
    const base = readRepoContent(await readCommitTree(git, baseCommit));
    const changes = diffRepoContent(base, { ...content, files: new Set(files.keys()) });
    const headLabel = o.head ? `${o.head} (${(await resolveCommit(git, o.head)).slice(0, 12)})` : "working tree";
    const markdown = renderPreview(changes, { baseLabel: `${o.base} (${baseCommit.slice(0, 12)})`, headLabel, problems: content.problems, warnings, counts });
    preview = { markdown, changes };
  }
  const prefix = relative(process.cwd(), join(dir, "."));
  let output = formatProblems(content.problems, o.format, counts, {
    pathPrefix: prefix === "" ? "" : `${prefix}/`,
    warnings,
    ...(preview ? { extra: { preview } } : {}),
  });
  if (preview && o.previewFile) await writeFile(o.previewFile, preview.markdown);
  else if (preview && o.format !== "json") output += "\n" + preview.markdown;
  return { content, warnings, output, ...(preview ? { preview } : {}) };
}

export function addValidateCommand(program: Command): void {
  program
    .command("validate")
    .description("check a config repository's files exactly as the server checks a commit (for CI); with --base, also preview the change in Markdown")
    .argument("[dir]", "repository directory", ".")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "github"]).default("text"))
    .option("--base <rev>", "preview what DIR changes relative to this revision (e.g. origin/main): configs added/changed/removed, groups affected")
    .option("--head <rev>", "check (and preview) this commit instead of the working tree")
    .option("--preview-file <file>", "write the Markdown preview to this file instead of stdout (for a PR comment)")
    .action(async (dir: string, o: ValidateOptions) => {
      const r = await runValidate(dir, o);
      process.stdout.write(r.output);
      process.exitCode = r.content.problems.length > 0 ? 1 : 0;
    });
}
