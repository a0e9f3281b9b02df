import pino, { type Logger } from "pino";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** JSON lines for machines; readable lines when a person watches a terminal. */
export function createLogger(level: LogLevel = "info", pretty = process.stdout.isTTY === true): Logger {
  if (pretty) return pino({ level, transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l" } } });
  return pino({ level });
}
