import type { RolloutPolicy } from "../domain/rolloutPolicy.ts";
import type { NotifyEvent } from "../notify/events.ts";
import { rolloutNotices } from "./rolloutNotices.ts";
import type { RolloutRecord } from "./rolloutRecord.ts";

/**
 * The --notify-url events of the rollouts: each record as last announced, so what its history has
 * beyond that is announced once, in the order it was recorded.
 */
export class RolloutAnnouncer {
  private announced = new Map<string, RolloutRecord>();

  constructor(
    private readonly emit: ((event: NotifyEvent) => void) | undefined,
    private readonly policyOf: (r: RolloutRecord) => RolloutPolicy | undefined,
  ) {}

  /** These records were announced already (by this process before a restart, or by the replica that decided). */
  announcedAs(rollouts: Iterable<readonly [string, RolloutRecord]>): void {
    this.announced = new Map(rollouts);
  }

  /** Emits the events of every change since the last call. */
  announce(rollouts: ReadonlyMap<string, RolloutRecord>): void {
    for (const [key, r] of rollouts) {
      const before = this.announced.get(key);
      if (before === r) continue;
      this.announced.set(key, r);
      if (!this.emit) continue;
      const policy = this.policyOf(r);
      for (const e of rolloutNotices(before, r, policy?.waves.length ?? r.waves?.length ?? 0, policy?.onHalt ?? "pause")) this.emit(e);
    }
    for (const key of this.announced.keys()) if (!rollouts.has(key)) this.announced.delete(key);
  }
}
