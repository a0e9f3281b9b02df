import { contentProblemMessage, type ContentCheck } from "./contentFormat.ts";
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
 * Restores a config's agent_type, description, content and format as they were at `target`, as a new
 * commit: history only moves forward, so agents see a new, larger version (a reset would make
 * versions go down). A config deleted since is re-created; its group bindings are not touched.
 * Restoring what is already there changes nothing and makes no commit. A version whose content
 * the server would now refuse (src/domain/contentFormat.ts) is not restored.
 */
export function planRollback(state: RepoState, name: string, target: RollbackTarget, check: ContentCheck): WritePlan {
  if (!isValidName(name)) throw new DomainError("InvalidParameter", nameRuleMessage("config", name));
  if (target.spec.name !== name) throw new DomainError("BadRequest", `Version ${target.version} belongs to config ${target.spec.name}, not ${name}.`);
  const message = `Roll back config ${name} to version ${target.version} (commit ${target.commit.slice(0, 12)})`;
  const current = state.configs.get(name);
  const { agentType, description, content, format } = target.spec;
  const restored: ConfigSpec = { name, agentType, description, content, ...(format ? { format } : {}) };
  if (current && current.agentType === agentType && current.description === description && current.content === content && current.format === format) {
    return { changes: [], message };
  }
  const problem = check(content, format);
  if (problem) throw new DomainError("InvalidParameter", `Version ${target.version} cannot be restored: ${contentProblemMessage("config", name, problem, format)}`);
  return { changes: [{ kind: "putConfig", config: restored }], message };
}
