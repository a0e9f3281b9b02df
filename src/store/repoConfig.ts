import { accessSync, constants, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import type { Git } from "./git.ts";

/**
 * The repository's git configuration as git resolves it (`git config --list`), read again whenever
 * one of the files it comes from changes: an operator who sets core.autocrlf or a hooks path
 * while the server runs gets git's behaviour from the next write on. Checking costs a few stats.
 * (Files pulled in with include.path are not watched: change the including file, or restart.)
 */
export class RepoConfig {
  private stamp: string | undefined;
  private values: ReadonlyMap<string, string> = new Map();

  constructor(
    private readonly git: Git,
    private readonly gitDir: string,
  ) {}

  /** The configuration, reread when a config file changed since the last call. */
  async current(): Promise<ReadonlyMap<string, string>> {
    const stamp = this.files().map(fileStamp).join("|");
    if (stamp !== this.stamp) {
      this.values = parseConfigList(await this.git.raw(["config", "--list", "-z"]).catch(() => ""));
      this.stamp = stamp;
    }
    return this.values;
  }

  /** Where git looks for hooks: core.hooksPath (relative to the working tree) or `<git dir>/hooks`. */
  hooksDir(config: ReadonlyMap<string, string>): string {
    const path = config.get("core.hookspath");
    if (path === undefined) return join(this.gitDir, "hooks");
    const expanded = path.startsWith("~/") ? join(homedir(), path.slice(2)) : path;
    return isAbsolute(expanded) ? expanded : join(this.git.dir, expanded);
  }

  /** The path of a hook git would run (an executable file in the hooks folder), if there is one. */
  hook(config: ReadonlyMap<string, string>, name: string): string | undefined {
    const path = join(this.hooksDir(config), name);
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile() ? path : undefined;
    } catch {
      return undefined;
    }
  }

  /** The files `git config --list` reads, in git's order (system, global, repository, worktree). */
  private files(): string[] {
    const env = process.env;
    const files: string[] = [];
    if (!env.GIT_CONFIG_NOSYSTEM) files.push(env.GIT_CONFIG_SYSTEM ?? "/etc/gitconfig");
    if (env.GIT_CONFIG_GLOBAL !== undefined) files.push(env.GIT_CONFIG_GLOBAL);
    else {
      files.push(join(env.XDG_CONFIG_HOME ?? join(homedir(), ".config"), "git", "config"));
      files.push(join(homedir(), ".gitconfig"));
    }
    files.push(join(this.gitDir, "config"), join(this.gitDir, "config.worktree"));
    return files;
  }
}

function fileStamp(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false, bigint: true });
  return st ? `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : "-";
}

/** `git config --list -z` records ("key\nvalue\0"), last value wins as in git. */
function parseConfigList(out: string): Map<string, string> {
  const config = new Map<string, string>();
  for (const rec of out.split("\0")) {
    if (rec === "") continue;
    const nl = rec.indexOf("\n");
    config.set((nl < 0 ? rec : rec.slice(0, nl)).toLowerCase(), nl < 0 ? "true" : rec.slice(nl + 1));
  }
  return config;
}
