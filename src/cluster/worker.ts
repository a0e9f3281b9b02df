import type { FromWorker, ToWorker } from "./messages.ts";
import { startWorkerServer, type WorkerServer } from "./workerServer.ts";

const send = (m: FromWorker) => {
  process.send?.(m);
};

/** Exits once everything sent before is written to the channel (process.exit would drop what is still queued). */
function exitAfterSent(code: number): void {
  const exit = () => process.exit(code);
  setTimeout(exit, 1000).unref();
  if (process.send === undefined || !process.connected) return exit();
  process.send({ t: "bye" } satisfies FromWorker, undefined, {}, exit);
}

/**
 * One worker process (--workers): the glue between node:cluster's channel and the worker's
 * server (workerServer.ts). Messages before `init` wait for it; a signal stops it as the primary
 * would.
 */
export function runWorker(): void {
  let started: WorkerServer | undefined;
  const early: ToWorker[] = [];
  process.on("message", (m: ToWorker) => {
    if (m.t === "init" && started === undefined) {
      started = startWorkerServer({ settings: m.settings, socketPath: m.socketPath, first: m.snapshot, send, exit: exitAfterSent });
      for (const e of early.splice(0)) started.receive(e);
    } else if (started === undefined) early.push(m);
    else started.receive(m);
  });
  // A signal to the whole process group (Ctrl-C, systemd) reaches the workers too: they stop as
  // the primary would tell them to; the primary does not replace a worker it is stopping.
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (started === undefined) process.exit(0);
      else void started.stop();
    });
  }
  send({ t: "ready" });
}
