import type { RolloutPlan } from "../domain/rolloutPlan.ts";
import { bindingRevertPlan } from "./bindingRevertPlan.ts";
import type { ControllerDeps } from "./controllerDeps.ts";
import { previousFileText } from "./previousFileText.ts";
import { revertPlan } from "./revertPlan.ts";
import type { RolloutRecord } from "./rolloutRecord.ts";

/**
 * Makes the revert commit of a halted rollout through the store (pushed like any write): the
 * groups put back when the rollout changed them (bindingRevertPlan.ts), else the config's file
 * (revertPlan.ts), read exactly as it was where a file must come back byte for byte.
 */
export async function writeRevert(store: ControllerDeps["store"], r: RolloutRecord, plan: RolloutPlan | undefined, why: string): Promise<{ readonly commit?: string | undefined }> {
  const fromText = await previousFileText(store.git, r);
  return store.write((state) => bindingRevertPlan(r, state, plan, why, fromText) ?? revertPlan(r, plan, why, state, fromText));
}
