import { statSync } from "node:fs";
import { join } from "node:path";
import { resolveRepository, SettingsError } from "../settings/resolveSettings.ts";
import { STATE_DIRS } from "../store/repoContent.ts";
import { repositoryRoot } from "../store/repositoryRoot.ts";
import { CliError } from "./cliError.ts";

export interface RepositoryFlags {
  readonly repo?: string;
  readonly config?: string;
}

const isDir = (path: string) => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;

/**
 * The repository a command works on without serving it (history, rollback): the one `serve`
 * would use (--repo, CONFIGSERVER_REPO, "repo:" in the settings file), else the current
 * folder's repository when it holds configs. Never creates one.
 */
export async function findRepository(flags: RepositoryFlags, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let found;
  try {
    found = resolveRepository({ flags: { repo: flags.repo, config: flags.config }, env });
  } catch (e) {
    if (e instanceof SettingsError) throw new CliError(e.problems.join("; "));
    throw e;
  }
  if (found) {
    try {
      return await repositoryRoot(found.repo);
    } catch {
      throw new CliError(`${found.where}: ${found.repo} is not a git repository: point it at the config repository`);
    }
  }
  const here = await repositoryRoot(".").catch(() => undefined);
  if (here && STATE_DIRS.some((d) => isDir(join(here, d)))) return here;
  throw new CliError(
    `no config repository: the current folder is not one, and none is set. Pass --repo DIR (after \`make run\`: --repo data/config-repo), ` +
      `set CONFIGSERVER_REPO, or give a settings file with "repo:" (--config FILE or CONFIGSERVER_CONFIG)`,
  );
}
