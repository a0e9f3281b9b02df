import pino, { type Logger } from "pino";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/**
 * JSON lines for machines (one object per line, `err` with stack and `caused by` chain); readable
 * lines when a person watches a terminal (stdout is a TTY).
 */
export function createLogger(level: LogLevel = "info", pretty = process.stdout.isTTY === true): Logger {
  const base = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (pretty) return pino({ ...base, transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l" } } });
  return pino(base);
}

/** Writes out buffered lines (before process.exit); never rejects. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}
