import type { CommitChanges } from "../domain/recentChanges.ts";
import type { Git } from "./git.ts";
import { CONFIG_DIR, GROUP_DIR, INSTANCE_DIR } from "./repoContent.ts";

const KINDS: Record<string, CommitChanges["changes"][number]["kind"]> = { [CONFIG_DIR]: "pipeline", [INSTANCE_DIR]: "instance", [GROUP_DIR]: "group" };
/** A state file's path → its kind and name; other files (a README in configs/) are no change of state. */
const STATE_FILE = /^([^/]+)\/([^/]+)\.yaml$/;

const ACTIONS: Record<string, "created" | "modified" | "deleted"> = { A: "created", M: "modified", T: "modified", D: "deleted" };

/** The newest `limit` first-parent commits of `rev`, newest first. Reads git: never on the agent path. */
export async function readRecentCommits(git: Git, limit: number, rev = "HEAD"): Promise<CommitChanges[]> {
  const head = (await git.raw(["rev-parse", "--verify", "-q", `${rev}^{commit}`]).catch(() => "")).trim();
  if (!head) return [];
  const top = Number((await git.raw(["rev-list", "--first-parent", "--count", head])).trim());
  const out = await git.raw([
    "-c", "core.quotePath=false", "log", "--first-parent", "--diff-merges=first-parent", "--no-renames", "--name-status",
    `--max-count=${limit}`, "--format=%x01%H%x02%an%x02%ae%x02%aI%x02%s", head, "--",
  ]);
  const commits: CommitChanges[] = [];
  for (const chunk of out.split("\x01")) {
    if (chunk === "") continue;
    const [header = "", ...rest] = chunk.split("\n");
    const [commit = "", author = "", authorEmail = "", date = "", subject = ""] = header.split("\x02");
    const changes = rest.flatMap((line) => {
      const tab = line.indexOf("\t");
      const m = tab > 0 ? STATE_FILE.exec(line.slice(tab + 1)) : null;
      const kind = m ? KINDS[m[1] ?? ""] : undefined;
      return m && kind ? [{ kind, name: m[2] ?? "", action: ACTIONS[line[0] ?? "M"] ?? ("modified" as const) }] : [];
    });
    commits.push({ commit, depth: top - commits.length, author, authorEmail, date, subject, changes });
  }
  return commits;
}
