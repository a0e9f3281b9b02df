import { Option, type Command } from "commander";
import { CONFIG_ENV, describeSettings, envName, OPTIONS, resolveSettings, SettingsError, type OptionSpec } from "../config.ts";
import { createLogger, flushLogger } from "../logger.ts";
import { startServer } from "../server.ts";

function helpLine(o: OptionSpec): string {
  const fallback = o.default !== undefined ? `default: ${o.default}` : "no default";
  return `${o.description} (${fallback}; env ${envName(o.name)})`;
}

export function addServeCommand(program: Command): void {
  const cmd = program
    .command("serve")
    .description("serve the config repository to agents and operators")
    .option("--config <file>", `read settings from this YAML file (keys are the option names below, e.g. "port: 8899"; env ${CONFIG_ENV})`);
  for (const o of OPTIONS) {
    if (o.kind === "bool") {
      cmd.addOption(new Option(`--${o.name}`, helpLine(o)));
      cmd.addOption(new Option(`--no-${o.name}`, `turn --${o.name} off (overrides the environment and the settings file)`));
    } else {
      cmd.addOption(new Option(`--${o.name} <${o.valueName ?? "value"}>`, helpLine(o)));
    }
  }
  cmd.addHelpText("after", `
Precedence: flags > environment (CONFIGSERVER_*) > settings file (--config) > defaults.
Durations: 500ms, 30s, 10m, 1h30m (0 = off where allowed). Sizes: 4MiB, 512KiB, 1MB, or bytes.
Relative paths in a settings file are relative to that file. All problems are reported at once.
Endpoints: GET /healthz, GET /readyz, GET /metrics (no token); GET /api/v1/agents[/ID] (user token).`);
  cmd.action(async (flags: Record<string, unknown>) => {
    let resolved;
    try {
      resolved = resolveSettings({ flags, env: process.env });
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      console.error(`configserver serve: ${e.message}`);
      process.exit(2);
    }
    const { settings, sources, warnings } = resolved;
    const logger = createLogger(settings.logLevel);
    for (const w of warnings) logger.warn(w);
    logger.info({ settings: describeSettings(settings), sources }, "settings");
    let server;
    try {
      server = await startServer({ ...settings, logger });
    } catch (err) {
      logger.fatal({ err }, "could not start");
      await flushLogger(logger);
      process.exit(1);
    }
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) {
        logger.warn({ signal }, "second signal: exiting now");
        await flushLogger(logger);
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, "shutting down: no new connections; finishing in-flight requests and writes");
      // A last resort should close() itself hang (it is bounded by --shutdown-timeout).
      setTimeout(() => {
        logger.error("shutdown did not finish in time; exiting");
        void flushLogger(logger).finally(() => process.exit(1));
      }, settings.shutdownTimeoutMs + 5000).unref();
      await server.close();
      logger.info("stopped");
      await flushLogger(logger);
      process.exit(0);
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
  });
}
