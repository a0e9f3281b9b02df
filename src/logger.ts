import pino, { type DestinationStream, type Logger } from "pino";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** Bytes of log lines allowed to wait for a slow reader before new lines are dropped. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;
/** How long a flush (before the process exits) waits for a slow reader. */
const FLUSH_WAIT_MS = 1000;

let dropped = 0;

/** Log lines dropped because the output was full or closed, since the process started. */
export function droppedLogLines(): number {
  return dropped;
}

/**
 * Writes log lines to a stream (stdout) without ever blocking the process: pino's own destination
 * writes synchronously and, when the pipe is full, waits in Atomics.wait until a reader drains it,
 * so a log shipper that stops reading froze every request and the shutdown. Node writes to pipes
 * asynchronously and queues what the pipe cannot take yet; this caps that queue and drops (and
 * counts) lines beyond it, and drops everything once the stream failed (a closed pipe: EPIPE).
 */
export class DroppingDestination implements DestinationStream {
  private broken = false;

  constructor(
    private readonly out: NodeJS.WritableStream & { readonly writableLength: number },
    private readonly maxPending = MAX_PENDING_BYTES,
  ) {
    out.on("error", () => {
      this.broken = true;
    });
  }

  write(line: string): void {
    if (this.broken || this.out.writableLength > this.maxPending) {
      dropped++;
      return;
    }
    try {
      this.out.write(line);
    } catch {
      // A synchronous stream (a file) that failed: the 'error' event marks it broken too.
      this.broken = true;
      dropped++;
    }
  }

  /** Calls back once what is queued is written, or after FLUSH_WAIT_MS: an exit must not wait on a reader. */
  flush(cb: (err?: Error) => void): void {
    if (this.broken || this.out.writableLength === 0) return cb();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.out.removeListener("drain", finish);
      cb();
    };
    const timer = setTimeout(finish, FLUSH_WAIT_MS);
    this.out.once("drain", finish);
  }
}

/**
 * JSON lines for machines (one object per line, `err` with stack and `caused by` chain); readable
 * lines when a person watches a terminal (stdout is a TTY).
 */
export function createLogger(level: LogLevel = "info", pretty = process.stdout.isTTY === true): Logger {
  // An unread or closed stderr must not crash the process either (an 'error' with no listener throws).
  process.stderr.on("error", () => undefined);
  const base = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (pretty) return pino({ ...base, transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l" } } });
  return pino(base, new DroppingDestination(process.stdout));
}

/** Writes out buffered lines (before process.exit), waiting at most about a second; never rejects. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}
