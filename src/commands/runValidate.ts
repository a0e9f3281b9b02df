import { statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { diffRepoContent, type ChangeSet } from "../domain/changeSet.ts";
import { renderPreview } from "../domain/preview.ts";
import type { Problem } from "../domain/types.ts";
import { formatProblems, type ProblemFormat } from "../problemFormat.ts";
import { readCommitTree, resolveCommit } from "../store/commitTree.ts";
import { Git } from "../store/git.ts";
import { notForV2Warnings } from "../store/notForV2Warnings.ts";
import { readRepoContent, STATE_DIRS, type RepoContent } from "../store/repoContent.ts";
import { readWorkingTree } from "../store/workingTree.ts";
import { DEFAULTS } from "../settings/options.ts";
import { PARSERS } from "../settings/valueParsers.ts";
import type { ContentLimits } from "../store/contentCheck.ts";
import { CliError } from "./cliError.ts";

export interface ValidateOptions {
  readonly format: ProblemFormat;
  /** Preview what the checked tree changes relative to this revision. */
  readonly base?: string;
  /** Check this commit instead of the working tree. */
  readonly head?: string;
  /** Write the Markdown preview here instead of stdout. */
  readonly previewFile?: string;
  /** The largest state file read (the server's --max-file-size); larger ones are problems. */
  readonly maxFileSize?: number;
  /** As the server's --max-config-size (a size such as 1MiB); default the server's. */
  readonly maxConfigSize?: string;
  /** As the server's --secrets; default the server's. */
  readonly secrets?: string;
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
  if (o.previewFile && !o.base) throw new CliError("--preview-file needs --base REV: the preview shows what DIR changes relative to that revision (e.g. --base origin/main)");
  const limits = contentLimits(o);
  checkFolder(dir);
  const git = new Git(dir);
  if ((o.base || o.head) && !(await git.test(["rev-parse", "--git-dir"]))) {
    throw new CliError(`${dir} is not in a git repository: --base and --head compare commits, so they need one (a CI checkout, or a clone)`);
  }
  const read = o.head ? await revision(() => readCommitTree(git, o.head as string, o.maxFileSize)) : await readWorkingTree(dir, o.maxFileSize);
  const files = read.files;
  // An empty result from a wrong folder must not pass CI as "ok: 0 config(s)".
  if (![...files.keys()].some((p) => STATE_DIRS.some((d) => p.startsWith(`${d}/`))) && read.problems.length === 0 && !hasStateFolder(dir, o.head)) {
    throw new CliError(`${dir} is not a config repository: it has none of the folders ${STATE_DIRS.map((d) => `${d}/`).join(", ")}${o.head ? ` at ${o.head}` : ""}. Pass the repository's top folder (\`configserver init DIR\` creates one from the template).`);
  }
  const checked = readRepoContent(files, limits);
  // Links and oversize files were not read: their problems come first, with the content's.
  const content: RepoContent = read.problems.length === 0 ? checked : { ...checked, problems: [...read.problems, ...checked.problems] };
  const counts = { configs: content.configs.length, instanceConfigs: content.instanceConfigs.length, groups: content.groups.length };
  const warnings = [...content.warnings, ...notForV2Warnings(files, content, limits)];
  let preview: ValidateResult["preview"];
  if (o.base) {
    const baseCommit = await revision(() => resolveCommit(git, o.base as string));
    const base = readRepoContent((await readCommitTree(git, baseCommit, o.maxFileSize)).files, limits);
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

/** The content checks' settings: the flags, else the server's defaults (the option table). */
function contentLimits(o: ValidateOptions): ContentLimits {
  const size = o.maxConfigSize === undefined ? { value: DEFAULTS.maxConfigSize } : PARSERS.size(o.maxConfigSize);
  if ("problem" in size) throw new CliError(`--max-config-size ${JSON.stringify(o.maxConfigSize)} ${size.problem}`);
  const secrets = o.secrets ?? DEFAULTS.secrets;
  if (secrets !== "warn" && secrets !== "strict") throw new CliError(`--secrets must be warn or strict, got ${JSON.stringify(secrets)}`);
  return { maxConfigSize: size.value, secrets };
}

function checkFolder(dir: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new CliError(`${dir} does not exist: pass the config repository's folder (default: the current folder)`);
  }
  if (!isDir) throw new CliError(`${dir} is a file: pass the config repository's folder, not one of its files`);
}

/** A working tree with an empty configs/ (or another state folder) is a repository with nothing in it yet. */
function hasStateFolder(dir: string, head: string | undefined): boolean {
  if (head) return false;
  return STATE_DIRS.some((d) => statSync(join(dir, d), { throwIfNoEntry: false })?.isDirectory() ?? false);
}

/** git failures (not a repository, unknown revision) mean the check could not run: exit 2, not 1. */
async function revision<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    throw new CliError((e as Error).message.trim().split("\n")[0] ?? String(e));
  }
}
