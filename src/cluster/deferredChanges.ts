import { eachTimesLine, onAgentPath, type AlarmTuple, type ChangeBatch, type RecordTuple } from "../agents/replication.ts";

/** Alarms kept per agent: as many as a record keeps (MemoryRegistry's default). */
const MAX_ALARMS = 100;

/**
 * One worker's changes as the primary passes them on to the other workers. What their agent path
 * reads (a new agent, a heartbeat's content, reports) goes at once; the rest (times, statistics,
 * alarms) is deferred and sent coalesced, the latest per agent: the other workers need it only to
 * expire agents and to hold whole records, while listings read the primary's own view, which takes
 * every batch as it comes.
 */
export class DeferredChanges {
  private times = new Map<string, string>();
  private records = new Map<string, RecordTuple>();
  private alarms = new Map<string, AlarmTuple[]>();

  /** Keeps what may wait; returns what must go on now (undefined when nothing must). */
  take(batch: ChangeBatch): ChangeBatch | undefined {
    const now: RecordTuple[] = [];
    for (const r of batch.records) {
      if (onAgentPath(r)) now.push(r);
      else this.records.set(r[0], r);
    }
    eachTimesLine(batch.times, (id, line) => this.times.set(id, line));
    // An agent's alarms go with its record when that goes now: the receivers tell apart those already in a whole record.
    const going = new Set(now.map((r) => r[0]));
    const alarmsNow: AlarmTuple[] = [];
    for (const a of batch.alarms) {
      if (going.has(a[0])) {
        alarmsNow.push(a);
        continue;
      }
      let list = this.alarms.get(a[0]);
      if (list === undefined) this.alarms.set(a[0], (list = []));
      list.push(a);
      if (list.length > MAX_ALARMS) list.splice(0, list.length - MAX_ALARMS);
    }
    return now.length > 0 ? { times: "", records: now, alarms: alarmsNow } : undefined;
  }

  /** Everything deferred, as one batch (undefined when nothing is). */
  drain(): ChangeBatch | undefined {
    if (this.times.size === 0 && this.records.size === 0 && this.alarms.size === 0) return undefined;
    let times = "";
    for (const line of this.times.values()) times += `${line}\n`;
    const batch: ChangeBatch = { times, records: [...this.records.values()], alarms: [...this.alarms.values()].flat() };
    this.times = new Map();
    this.records = new Map();
    this.alarms = new Map();
    return batch;
  }
}
