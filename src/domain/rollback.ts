import { DomainError } from "./errors.ts";
import { isValidName, nameRuleMessage } from "./names.ts";
import type { RepoState } from "./repoState.ts";
import type { ConfigSpec } from "./types.ts";
import type { WritePlan } from "./userOps.ts";

/** A past version of a config, as read from history by the store. */
export interface RollbackTarget {
  readonly version: number;
  readonly commit: string;
  readonly spec: ConfigSpec;
}

/**
 * Restores a config's agent_type, description and content as they were at `target`, as a new
 * commit: history only moves forward, so agents see a new, larger version (a reset would make
 * versions go down). A config deleted since is re-created; its group bindings are not touched.
 * Restoring what is already there changes nothing and makes no commit.
 */
export function planRollback(state: RepoState, name: string, target: RollbackTarget): WritePlan {
  if (!isValidName(name)) throw new DomainError("InvalidParameter", nameRuleMessage("config", name));
  if (target.spec.name !== name) throw new DomainError("BadRequest", `Version ${target.version} belongs to config ${target.spec.name}, not ${name}.`);
  const message = `Roll back config ${name} to version ${target.version} (commit ${target.commit.slice(0, 12)})`;
  const current = state.configs.get(name);
  const restored: ConfigSpec = { name, agentType: target.spec.agentType, description: target.spec.description, content: target.spec.content };
  if (current && current.agentType === restored.agentType && current.description === restored.description && current.content === restored.content) {
    return { changes: [], message };
  }
  return { changes: [{ kind: "putConfig", config: restored }], message };
}
