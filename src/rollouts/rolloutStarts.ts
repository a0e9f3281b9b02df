import type { ConfigKind } from "../domain/agent.ts";
import { bindingKey, groupsApplying, groupsText } from "../domain/groupBindings.ts";
import { isOpampConfig } from "../domain/opampConfigs.ts";
import type { RepoState } from "../domain/repoState.ts";
import { startRollout } from "../domain/rolloutPlan.ts";
import { effectivePolicy } from "../domain/rolloutPolicy.ts";
import type { ConfigRecord, InstanceConfigRecord } from "../domain/types.ts";
import { isActive, keyOf, storable, type RolloutRecord } from "./rolloutRecord.ts";

type AnyRecord = ConfigRecord | InstanceConfigRecord;

const sameContent = (a: AnyRecord | undefined, b: AnyRecord | undefined): boolean => a !== undefined && b !== undefined && a.content === b.content;

function recordOf(state: RepoState, kind: ConfigKind, name: string): AnyRecord | undefined {
  return kind === "pipeline" ? state.configs.get(name) : state.instanceConfigs.get(name);
}

/**
 * What a newly served commit does to the rollouts (`rollouts` by keyOf), given the commit served
 * before. For each config whose content changed, or whose set of groups changed (a group binds or
 * unbinds it, or a group applying it changed its selectors, so other agents match):
 * - its policy (its own, else rollout.yaml) makes it a rollout from the version that last reached
 *   everyone, as the groups of then applied it (`fromGroups`; a rollout in progress keeps both: the
 *   newest commit starts again at wave 1); agents outside the current waves keep what those groups
 *   gave them;
 * - content and groups equal to those is never staged: the rollout is pinned (everyone gets that
 *   version back at once, at its own version number); so is a new config removed again;
 * - a rollback (the commit that made the version has a Rollback trailer) is never staged either: a
 *   rollout in progress ends ("rolled back by"), and none starts;
 * - a removed config with a policy follows the waves too;
 * - without a policy nothing is staged: a rollout in progress ends.
 * Returns the new map (the same object when nothing changed).
 */
export function rolloutsAfterCommit(rollouts: ReadonlyMap<string, RolloutRecord>, state: RepoState, previous: RepoState, now: number): Map<string, RolloutRecord> {
  const next = new Map(rollouts);
  const names = new Set<string>();
  for (const c of state.sortedConfigs) names.add(keyOf("pipeline", c.name));
  for (const c of state.sortedInstanceConfigs) names.add(keyOf("instance", c.name));
  for (const [key, r] of rollouts) if (isActive(r)) names.add(key);
  for (const c of previous.sortedConfigs) names.add(keyOf("pipeline", c.name));
  for (const c of previous.sortedInstanceConfigs) names.add(keyOf("instance", c.name));
  for (const key of names) {
    const kind = key.startsWith("pipeline:") ? "pipeline" : "instance";
    const name = key.slice(kind.length + 1);
    const cur = recordOf(state, kind, name);
    // OpAMP agents' configs (agent_type: opamp) are not staged: their agents take the whole set at once.
    const any = cur ?? recordOf(previous, kind, name);
    if (kind === "pipeline" && any !== undefined && isOpampConfig(any as ConfigRecord)) continue;
    const found = rollouts.get(key);
    const running = found !== undefined && isActive(found) ? found : undefined;
    const before = recordOf(previous, kind, name);
    const groupsBefore = groupsApplying(previous, kind, name);
    // What agents outside the waves are served by: a rollout's groups of before; else (none, a pinned
    // one, one recorded before groups were kept) the groups the commit served before had.
    const fromGroups = running?.fromGroups ?? groupsBefore;
    if (cur === undefined) {
      if (running?.to.version === -1) continue;
      // A new config removed again (its revert, or a person's commit): back to what everyone had, nothing.
      if (running !== undefined && running.from === undefined) {
        if (running.mode !== "pinned" || running.progress.status !== "reverted") next.set(key, pin(running, state.commit, now));
        continue;
      }
      // A removal follows the waves: agents outside them keep what the groups of before gave them.
      const lastCompleted = running ? running.from : before;
      const policy = lastCompleted ? effectivePolicy(lastCompleted, previous.rollout) : undefined;
      if (lastCompleted === undefined || policy === undefined) {
        if (running) next.set(key, end(running, now, "the config was removed, and it had no rollout policy: its removal is not staged"));
        continue;
      }
      const history = running ? [{ at: now, who: "server", action: "superseded" as const, detail: `version ${running.to.version} superseded by the removal of the config (commit ${state.commit.slice(0, 12)})` }] : [];
      next.set(key, {
        kind,
        name,
        from: storable(lastCompleted),
        to: { version: -1, commit: state.commit },
        fromGroups,
        removalPolicy: policy,
        mode: "waves",
        progress: startRollout(now),
        cuts: [],
        received: {},
        history: [...history, { at: now, who: "server", action: "started", detail: `removal of version ${lastCompleted.version}, ${policy.waves.length} wave(s) (${policy.waves.map((w) => w.text).join(", ")}; policy from ${policy.source})` }],
      });
      continue;
    }
    const groupsNow = groupsApplying(state, kind, name);
    // This commit changed who the config goes to (previous.commit "": the first commit served, never staged).
    const rebound = previous.commit !== "" && bindingKey(groupsNow) !== bindingKey(groupsBefore);
    if (running !== undefined) {
      if (sameContent(cur, running.from) && bindingKey(groupsNow) === bindingKey(fromGroups)) {
        // Back to what everyone had (a revert, a rollback): never staged. Agents that got the new version reload it once.
        if (running.mode !== "pinned" || running.progress.status !== "reverted") next.set(key, pin(running, state.commit, now));
        continue;
      }
      if (rolledBack(cur, before)) {
        next.set(key, end(running, now, `rolled back by commit ${cur.commit.slice(0, 12)}: version ${cur.version} reaches every agent at once (going back is never staged)`));
        continue;
      }
      if (running.mode === "waves" && effectivePolicy(cur, state.rollout) === undefined) {
        next.set(key, end(running, now, `commit ${state.commit.slice(0, 12)} removed the rollout policy: version ${cur.version} reaches every agent at once`));
        continue;
      }
      if (!rebound && (running.to.version === cur.version || sameContent(cur, before))) {
        // Nothing new for the agents (another file changed, or only this one's description); a halted
        // rollout being reverted stays so.
        if (running.mode === "waves" && running.to.version !== cur.version) next.set(key, { ...running, to: { version: cur.version, commit: cur.commit } });
        continue;
      }
    } else {
      if (before === undefined ? previous.commit === "" : sameContent(cur, before) && !rebound) continue;
      if (rolledBack(cur, before)) continue;
    }
    const lastCompleted = running ? running.from : before;
    const policy = effectivePolicy(cur, state.rollout);
    if (policy === undefined) {
      if (running) next.set(key, end(running, now, `commit ${cur.commit.slice(0, 12)} removed the rollout policy: version ${cur.version} reaches every agent at once`));
      continue;
    }
    const by = running?.to.version === cur.version ? `a change of its groups (commit ${state.commit.slice(0, 12)})` : `version ${cur.version} (commit ${cur.commit.slice(0, 12)})`;
    const history = running ? [{ at: now, who: "server", action: "superseded" as const, detail: `version ${running.to.version} superseded by ${by}` }] : [];
    const groups = bindingKey(groupsNow) === bindingKey(fromGroups) ? "" : `; groups ${groupsText(fromGroups)} to ${groupsText(groupsNow)}`;
    next.set(key, {
      kind,
      name,
      from: storable(lastCompleted),
      // The same version to other agents: the commit that changed its groups.
      to: { version: cur.version, commit: cur.version === lastCompleted?.version ? state.commit : cur.commit },
      fromGroups,
      mode: "waves",
      progress: startRollout(now),
      cuts: [],
      received: {},
      history: [...history, { at: now, who: "server", action: "started", detail: `version ${lastCompleted?.version ?? "none (a new config)"} to ${cur.version}${groups}, ${policy.waves.length} wave(s) (${policy.waves.map((w) => w.text).join(", ")}; policy from ${policy.source})` }],
    });
  }
  return next;
}

/** The served commits brought a rollback of this config (a Rollback trailer on the commit that made its version). */
function rolledBack(cur: AnyRecord, before: AnyRecord | undefined): boolean {
  return cur.rollback === true && cur.commit !== before?.commit;
}

function end(r: RolloutRecord, now: number, why: string): RolloutRecord {
  return { ...r, mode: "waves", progress: { ...r.progress, status: "completed", endedAt: now }, history: [...r.history, { at: now, who: "server", action: "superseded", detail: why }] };
}

/** Everyone back on `from` (a revert, or `commit` put its content and groups back — or, for a new config, removed it again). */
function pin(r: RolloutRecord, commit: string, now: number): RolloutRecord {
  const reverted = r.progress.status === "reverted";
  return {
    ...r,
    mode: "pinned",
    fromGroups: undefined,
    progress: { ...r.progress, status: "reverted", endedAt: r.progress.endedAt ?? now },
    revertCommit: r.revertCommit ?? commit,
    revertPending: undefined,
    history: reverted ? r.history : [...r.history, { at: now, who: "server", action: "reverted", detail: r.from === undefined ? `commit ${commit.slice(0, 12)} removed the new config again: no agent is served it` : `commit ${commit.slice(0, 12)} put back the content of version ${r.from.version}${r.fromGroups !== undefined ? ` and its groups (${groupsText(r.fromGroups)})` : ""}: every agent is served version ${r.from.version} again` }],
  };
}
