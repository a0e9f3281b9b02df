import type { Worker } from "node:cluster";
import type { WorkerStatus } from "../http/status.ts";
import type { ToWorker, WorkerReport } from "./messages.ts";
import { OrderedChannel } from "./orderedChannel.ts";

/** The primary's view of one worker. */
export interface Member {
  readonly worker: Worker;
  readonly startedAt: number;
  state: WorkerStatus["state"];
  /** Init sent: it gets every later batch and snapshot. */
  fed: boolean;
  commit: string | null;
  report: WorkerReport;
  readonly channel: OrderedChannel<ToWorker>;
}

/** A worker just forked: starting, not yet fed, its messages sent in order while it is connected. */
export function newMember(worker: Worker): Member {
  return {
    worker, startedAt: Date.now(), state: "starting", fed: false, commit: null, report: { requests: 0, heldHeartbeats: 0, rssBytes: 0 },
    channel: new OrderedChannel((msg) => {
      if (worker.isConnected()) worker.send(msg);
    }),
  };
}

/** One worker as /status shows it. */
export function workerStatus(m: Member): WorkerStatus {
  return {
    id: m.worker.id, pid: m.worker.process.pid, state: m.state, commit: m.commit, requests: m.report.requests,
    heldHeartbeats: m.report.heldHeartbeats, rssBytes: m.report.rssBytes, startedAt: new Date(m.startedAt).toISOString(),
  };
}
