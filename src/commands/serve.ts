import { InvalidArgumentError, Option, type Command } from "commander";
import { createLogger, type LogLevel } from "../logger.ts";
import { DEFAULTS, startServer } from "../server.ts";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("must be an integer from 0 to 65535");
  return n;
}

export function addServeCommand(program: Command): void {
  program
    .command("serve")
    .description("serve the config repository to agents and operators")
    .requiredOption("--repo <dir>", "the config repository (created when missing or empty)")
    .option("--host <address>", "address to listen on", DEFAULTS.host)
    .option("--port <port>", "port to listen on (0 picks a free one)", port, DEFAULTS.port)
    .option("--read-only", "refuse User API writes (changes come by pull request)", false)
    .addOption(new Option("--log-level <level>", "log level").choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"))
    .action(async (o: { repo: string; host: string; port: number; readOnly: boolean; logLevel: LogLevel }) => {
      const logger = createLogger(o.logLevel);
      const server = await startServer({ repo: o.repo, host: o.host, port: o.port, readOnly: o.readOnly, logger });
      const stop = async (signal: string) => {
        logger.info({ signal }, "shutting down");
        await server.close();
        process.exit(0);
      };
      process.once("SIGTERM", () => void stop("SIGTERM"));
      process.once("SIGINT", () => void stop("SIGINT"));
    });
}
