import type { Logger } from "pino";

let unhandled = 0;

/** Promise rejections nothing handled, since the process started (each one is a bug: it is logged). */
export function unhandledRejections(): number {
  return unhandled;
}

/**
 * Node ends the process on a rejection nothing handled. Every background task of the server
 * (sync, reload, webhook-triggered work, the watcher) handles its own failures; one that slips
 * through is a bug to log and count, not a reason to stop serving a fleet from a good snapshot.
 * `logger` is read when it happens: the CLI installs this before its logger exists.
 */
export function guardRejections(logger: () => Logger | undefined): void {
  process.on("unhandledRejection", (reason) => {
    unhandled++;
    const log = logger();
    if (log) log.error({ err: reason }, "bug: a promise rejection was not handled (the server keeps running; please report this)");
    else console.error("configserver: bug: a promise rejection was not handled:", reason);
  });
}
