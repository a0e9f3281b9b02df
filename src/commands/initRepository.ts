import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULTS } from "../settings/options.ts";
import { Git } from "../store/git.ts";
import { CliError } from "./cliError.ts";

const templateDir = fileURLToPath(new URL("../../config-repo-template/", import.meta.url));

/** The template's CI files, which name the configserver package to install (CONFIGSERVER_PACKAGE). */
export const CI_FILES = [".github/workflows/validate.yml", ".gitlab-ci.yml"] as const;
const PACKAGE_LINE = /^(\s*CONFIGSERVER_PACKAGE:) ""$/m;

/**
 * The sources the template's CI accepts for the configserver CLI: ones nobody else can change.
 * The same rule as the check step in config-repo-template/.github/workflows/validate.yml.
 */
export const PINNED_PACKAGE = /^(https:\/\/.+\.tgz|git\+(https|ssh):\/\/.+#[0-9a-f]{40}|\/.+\.tgz)$/;

export interface InitOptions {
  /** Written into the CI files as CONFIGSERVER_PACKAGE. */
  readonly packageSpec?: string;
}

/**
 * Creates a config repository from config-repo-template/, as one commit. `dir` may be missing,
 * empty, or a git repository without commits or files (what `serve --repo NEWDIR` creates).
 */
export async function initRepository(dir: string, options: InitOptions = {}): Promise<void> {
  if (options.packageSpec !== undefined && !PINNED_PACKAGE.test(options.packageSpec)) {
    throw new CliError(`--package ${JSON.stringify(options.packageSpec)} is not pinned: use a release tarball URL (https://…/configserver-X.Y.Z.tgz) or a git URL ending in #<40-hex commit>`);
  }
  const git = new Git(dir);
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory()) throw new CliError(`${dir} is a file: pass a new or empty folder`);
  if (stat) {
    const entries = await readdir(dir);
    const committed = entries.includes(".git") && (await git.test(["rev-parse", "-q", "--verify", "HEAD"]));
    if (entries.some((e) => e !== ".git") || committed) throw new CliError(`${dir} already exists and is not empty: pass a new or empty folder (or a git repository with no commits yet)`);
  }
  await cp(templateDir, dir, { recursive: true });
  if (options.packageSpec !== undefined) {
    for (const f of CI_FILES) {
      const path = join(dir, f);
      await writeFile(path, (await readFile(path, "utf8")).replace(PACKAGE_LINE, `$1 ${JSON.stringify(options.packageSpec)}`));
    }
  }
  await git.raw(["init", "-q", "--initial-branch=main"]);
  await git.raw(["add", "-A"]);
  await git.raw(["-c", `user.name=${DEFAULTS.author.name}`, "-c", `user.email=${DEFAULTS.author.email}`, "commit", "-q", "--no-verify", "--no-gpg-sign", "-m", "Create config repository from the configserver template"]);
}
