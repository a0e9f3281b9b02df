import type { Context } from "koa";
import { DomainError } from "../domain/errors.ts";
import type { RepoStore } from "../store/repoStore.ts";

// A commit's author, dates and message, for the console (consoleApi.ts routes it).

const COMMIT = /^[0-9a-f]{4,64}$/;
const COMMIT_CACHE = 1000;

/** GET /api/v1/commits/:commit: one cache per router (commits never change). */
export function commitInfo(store: RepoStore) {
  const commits = new Map<string, Record<string, unknown>>();
  return async (ctx: Context) => {
    const wanted = (ctx.params.commit ?? "").toLowerCase();
    if (!COMMIT.test(wanted)) throw new DomainError("InvalidParameter", `${JSON.stringify(ctx.params.commit)} is not a commit id (4 to 64 hexadecimal digits).`);
    const known = commits.get(wanted);
    if (known) return known;
    const out = await store.git.raw(["show", "-s", "--no-show-signature", "--format=%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%s%x00%b", `${wanted}^{commit}`, "--"]).catch(() => undefined);
    if (out === undefined) throw new DomainError("BadRequest", `Commit ${wanted} is not in the repository.`);
    const [commit = "", parents = "", author = "", authorEmail = "", authoredAt = "", committer = "", committerEmail = "", committedAt = "", subject = "", body = ""] = out.split("\0");
    const info = { message: "Get commit success", commit, parents: parents.split(" ").filter((p) => p !== ""), author, authorEmail, authoredAt, committer, committerEmail, committedAt, subject, body: body.trimEnd() };
    // Commits never change: each is read from git once.
    if (commits.size >= COMMIT_CACHE) commits.clear();
    commits.set(wanted, info);
    return info;
  };
}
