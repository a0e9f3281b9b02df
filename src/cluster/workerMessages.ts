import type { Logger } from "pino";
import type { WorkerFleet } from "../agents/workerFleet.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { RolloutController } from "../rollouts/rolloutController.ts";
import type { ChangeRelay } from "./changeRelay.ts";
import type { CommitBarrier } from "./commitBarrier.ts";
import type { Member } from "./member.ts";
import type { FromWorker, WorkerSettings } from "./messages.ts";
import { snapshotMessage } from "./snapshotWire.ts";

// What the primary (primary.ts) does with each message of a worker: feed a new one, absorb and
// pass on its agents' changes, note what it serves, answer its calls.

/** Agents per batch when the whole fleet goes to a new worker. */
const WHOLE_CHUNK = 2000;

/** What reading the workers' messages needs of the primary; the getters read what exists only once the server started. */
export interface WorkerMessageDeps {
  readonly logger: Logger;
  readonly settings: WorkerSettings;
  readonly socketPath: string;
  readonly relay: ChangeRelay;
  readonly barrier: CommitBarrier;
  /** The served state (the primary's server has started before any worker is forked). */
  readonly state: () => RepoState;
  readonly fleet: () => WorkerFleet | undefined;
  readonly controller: () => RolloutController | undefined;
  /** A worker listens on the shared port. */
  readonly onStarted: (port: number) => void;
  /** A worker could not listen. */
  readonly onFailed: (err: Error) => void;
}

/** The handler of one worker's messages, in the order they arrive. */
export function workerMessages(deps: WorkerMessageDeps): (m: Member, msg: FromWorker) => void {
  const { logger, settings, socketPath, relay, barrier } = deps;
  const feed = (m: Member) => {
    m.channel.send({ t: "init", settings, socketPath, snapshot: snapshotMessage(deps.state()) });
    m.fed = true;
    deps.fleet()?.wholeBatches(WHOLE_CHUNK, (batch) => m.channel.send({ t: "changes", batch }));
    m.channel.send({ t: "listen" });
  };

  return (m: Member, msg: FromWorker) => {
    switch (msg.t) {
      case "ready":
        return feed(m);
      case "listening":
        m.state = "serving";
        logger.debug({ worker: m.worker.id, pid: m.worker.process.pid }, "worker serving");
        barrier.recheck();
        return deps.onStarted(msg.port);
      case "failed": {
        const err = Object.assign(new Error(msg.error.message), { code: msg.error.code, syscall: msg.error.syscall });
        // Said once, on stderr, by the caller (commands/startupFailure.ts).
        logger.debug({ worker: m.worker.id, err }, "a worker could not listen");
        return deps.onFailed(err);
      }
      case "changes": {
        const missing = (deps.fleet() as WorkerFleet).absorbBatch(msg.batch);
        if (missing.length > 0) m.channel.send({ t: "resend", ids: missing });
        // What agents' requests read goes on at once (an agent's next request may reach another worker).
        return relay.received(m.worker.id, msg.batch);
      }
      case "rolloutServed":
        for (const [kind, name, id] of msg.served) deps.controller()?.noteServed(kind, name, id);
        return;
      case "missing":
        return deps.fleet()?.wholeBatches(WHOLE_CHUNK, (batch) => m.channel.send({ t: "changes", batch }), msg.ids);
      case "served":
        m.commit = msg.commit;
        m.report = msg.report;
        return barrier.recheck();
      case "stale":
        return m.channel.send({ t: "snapshot", snapshot: snapshotMessage(deps.state()) });
      case "flushed":
        m.report = msg.report;
        return m.channel.answer(msg.n, true);
      case "metrics":
        return m.channel.answer(msg.n, msg.metrics);
      case "bye":
        return;
      case "fence":
        // On the worker's one ordered channel, after the changes passed on to it so far: an
        // agent's change read before this request was handed over is there first.
        return m.channel.send({ t: "fenced", n: msg.n });
    }
  };
}
