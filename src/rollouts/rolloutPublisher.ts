import type { RolloutRecord } from "./rolloutRecord.ts";
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

  /**
   * Sends the records, each with its last counts (`withCounts`), unless the records and the counts
   * are those sent last time.
   */
  share(commit: string, records: readonly RolloutRecord[], withCounts: (r: RolloutRecord) => RolloutRecord): void {
    const shared = records.map(withCounts);
    const counts = JSON.stringify(shared.map((r) => [r.waves, r.failures]));
    if (counts === this.counts && records.length === this.records.length && records.every((r, i) => r === this.records[i])) return;
    this.records = records;
    this.counts = counts;
    this.last = this.sharing.publish({ commit, rollouts: shared });
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
