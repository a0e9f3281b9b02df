import type { ConfigKind } from "./agent.ts";
import type { RepoState } from "./repoState.ts";
import type { Rollout } from "./rollout.ts";

/** One first-parent commit and the state files it changed, by kind and name (read by the store). */
export interface CommitChanges {
  readonly commit: string;
  /** First-parent depth (root = 1). */
  readonly depth: number;
  readonly author: string;
  readonly authorEmail: string;
  readonly date: string;
  readonly subject: string;
  readonly changes: readonly { readonly kind: ConfigKind | "group"; readonly name: string; readonly action: "created" | "modified" | "deleted" }[];
}

/**
 * Where a change to a config stands now:
 * - `served`: the served version is this commit's content; `rollout` says how far it reached;
 * - `superseded`: a later commit changed the config again;
 * - `deleted`: the served commit has no such config;
 * - `notServed`: the commit is newer than the served one (refused, or not loaded yet).
 */
export type ChangeState = "served" | "superseded" | "deleted" | "notServed";

export type RolloutCounts = Pick<Rollout, "servedVersion" | "targeted" | "applied" | "applying" | "failed" | "older" | "notReported">;

export interface RecentChange {
  readonly commit: string;
  readonly author: string;
  readonly authorEmail: string;
  readonly date: string;
  readonly subject: string;
  /** `served`: the served commit; `refused`: HEAD, failing validation; `notServed`: newer than the served one; `past`: older. */
  readonly commitState: "served" | "refused" | "notServed" | "past";
  readonly configs: readonly { readonly name: string; readonly kind: ConfigKind; readonly action: string; readonly state: ChangeState; readonly rollout: RolloutCounts | null }[];
  readonly groups: readonly { readonly name: string; readonly action: string }[];
}

/**
 * The recent commits (newest first) as the overview tells them: who changed what, and for each
 * config they touched, whether that change is what agents are served and how far it reached.
 * The newest commit (at or before the served one) touching a config is the one whose content is
 * served; `rollout` gives its counts. Pure: the caller reads git and the fleet.
 */
export function recentChanges(commits: readonly CommitChanges[], state: RepoState, refused: string | undefined, rollout: (kind: ConfigKind, name: string) => Rollout | undefined): RecentChange[] {
  const seen = new Set<string>();
  return commits.map((c) => {
    const after = !state.commit || c.depth > state.depth;
    const commitState = c.commit === refused ? "refused" : after ? "notServed" : c.commit === state.commit ? "served" : "past";
    const configs = c.changes.flatMap((f) => {
      if (f.kind === "group") return [];
      const key = `${f.kind}\0${f.name}`;
      let stateOf: ChangeState;
      let counts: RolloutCounts | null = null;
      if (after) stateOf = "notServed";
      else if (seen.has(key)) stateOf = "superseded";
      else {
        seen.add(key);
        const r = rollout(f.kind, f.name);
        stateOf = r ? "served" : "deleted";
        if (r) counts = { servedVersion: r.servedVersion, targeted: r.targeted, applied: r.applied, applying: r.applying, failed: r.failed, older: r.older, notReported: r.notReported };
      }
      return [{ name: f.name, kind: f.kind, action: f.action, state: stateOf, rollout: counts }];
    });
    const groups = c.changes.filter((f) => f.kind === "group").map((f) => ({ name: f.name, action: f.action }));
    return { commit: c.commit, author: c.author, authorEmail: c.authorEmail, date: c.date, subject: c.subject, commitState, configs, groups };
  });
}
