import type { RolloutPlan } from "../domain/rolloutPlan.ts";
import { keyOf, type RolloutRecord } from "./rolloutRecord.ts";
import type { RolloutSharing } from "./sharedRollouts.ts";

/** How long a replica that decides waits, after sending the others a change, before serving it itself. */
const SHARE_GRACE_MS = 50;

/**
 * What the deciding replica shares with the others (sharedRollouts.ts): every record with its
 * counts, sent only when a record or a count changed since the last time.
 */
export class RolloutPublisher {
  private records: readonly RolloutRecord[] = [];
  private counts = "";
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly sharing: RolloutSharing) {}

  /** Sends the records (with the plans' counts) unless the last ones sent were the same. */
  share(commit: string, records: readonly RolloutRecord[], plans: ReadonlyMap<string, RolloutPlan>): void {
    const counts = JSON.stringify(records.map((r) => {
      const plan = plans.get(keyOf(r.kind, r.name));
      return plan ? [plan.waves, plan.failures] : null;
    }));
    if (counts === this.counts && records.length === this.records.length && records.every((r, i) => r === this.records[i])) return;
    this.records = records;
    this.counts = counts;
    this.last = this.sharing.publish({
      commit,
      rollouts: records.map((r) => {
        const plan = plans.get(keyOf(r.kind, r.name));
        return plan ? { ...r, waves: plan.waves, failures: plan.failures } : r;
      }),
    });
  }

  /** The next share() sends whatever it is given (this replica just started deciding). */
  forget(): void {
    this.records = [];
    this.counts = "";
  }

  /**
   * Settles once the last records shared were sent to the other replicas, and a little time for
   * them to take it in: a change that moves agents forward is served here only then, so an agent
   * moved to a new wave here is not moved back by a replica that has not heard yet.
   */
  async sent(): Promise<void> {
    await this.last;
    await new Promise((resolve) => setTimeout(resolve, SHARE_GRACE_MS));
  }
}
