import { Git } from "./git.ts";

/**
 * The top folder of the git repository holding `dir`. Commands that only read or that write
 * through RepoStore must not create a repository by accident (RepoStore.open would, in an
 * empty folder), so they resolve an existing one first.
 */
export async function repositoryRoot(dir: string): Promise<string> {
  const root = (await new Git(dir).raw(["rev-parse", "--show-toplevel"]).catch(() => "")).trim();
  if (!root) throw new Error(`${dir} is not inside a git repository: pass the config repository with --repo DIR`);
  return root;
}

/** The identity `git commit` would use in this repository, when one is configured. */
export async function configuredAuthor(dir: string): Promise<{ name: string; email: string } | undefined> {
  const git = new Git(dir);
  const name = (await git.raw(["config", "user.name"]).catch(() => "")).trim();
  const email = (await git.raw(["config", "user.email"]).catch(() => "")).trim();
  return name && email ? { name, email } : undefined;
}
