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
  /** The file exactly as it was then: it is put back byte for byte. */
  readonly text: string;
}

/** The config's file in a HEAD that fails validation (undefined text: absent there). */
export interface RefusedFile {
  readonly text: string | undefined;
}

/**
 * Puts a config's file back exactly as it was at `target`, as a new commit: history only moves
 * forward (a reset would make versions go down). A config deleted since is re-created; its group
 * bindings are not touched. A version whose content the server would now refuse
 * (src/domain/contentFormat.ts) is not restored.
 *
 * While HEAD fails validation (`refused`: the file there) the rollback is how it gets repaired: it
 * is planned against HEAD's file, not the served one. When the restored config equals what the
 * server serves (agents hold it), the change names the served version's commit (`keeps`), so that
 * agents see the same version, not a new one (docs/store.md "Versions"). Restoring what is
 * already there changes nothing and makes no commit. The commit says it is a rollback (a trailer):
 * going back is never staged by a rollout (docs/rollouts.md).
 */
export function planRollback(state: RepoState, name: string, target: RollbackTarget, check: ContentCheck, refused?: RefusedFile): WritePlan {
  if (!isValidName(name)) throw new DomainError("InvalidParameter", nameRuleMessage("config", name));
  if (target.spec.name !== name) throw new DomainError("BadRequest", `Version ${target.version} belongs to config ${target.spec.name}, not ${name}.`);
  const message = `Roll back config ${name} to version ${target.version} (commit ${target.commit.slice(0, 12)})`;
  const served = state.configs.get(name);
  const { agentType, description, content, format } = target.spec;
  const restored: ConfigSpec = { name, agentType, description, content, ...(format ? { format } : {}) };
  const isServed = served !== undefined && served.agentType === agentType && served.description === description && served.content === content && served.format === format;
  if (refused ? refused.text === target.text : isServed) return { changes: [], message };
  const problem = check(content, format);
  if (problem) throw new DomainError("InvalidParameter", `Version ${target.version} cannot be restored: ${contentProblemMessage("config", name, problem, format)}`);
  const keeps = refused && isServed ? { keeps: served.commit } : {};
  return { changes: [{ kind: "restoreConfig", config: restored, text: target.text, ...keeps, rollbackTo: target.version }], message };
}
