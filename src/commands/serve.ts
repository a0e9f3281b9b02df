import cluster from "node:cluster";
import { readdirSync, statSync } from "node:fs";
import { Option, type Command } from "commander";
import { envName, OPTIONS, type OptionSpec } from "../settings/options.ts";
import { CONFIG_ENV, describeSettings, resolveSettings, SettingsError } from "../settings/resolveSettings.ts";
import { guardRejections } from "../crashGuard.ts";
import { selfCommand } from "./selfCommand.ts";
import { startupFailure } from "./startupFailure.ts";

function helpLine(o: OptionSpec): string {
  const fallback = o.default !== undefined ? `default: ${o.default}` : "no default";
  return `${o.description} (${fallback}; env ${envName(o.name)})`;
}

/** Missing or empty: the store will make it a new, empty repository. */
function isNewFolder(dir: string): boolean {
  const stat = statSync(dir, { throwIfNoEntry: false });
  return !stat || (stat.isDirectory() && readdirSync(dir).length === 0);
}

export function addServeCommand(program: Command): void {
  const cmd = program
    .command("serve")
    .description("serve the config repository to agents and operators")
    .option("--config <file>", `read settings from this YAML file (keys are the option names below, e.g. "port: 8899"; env ${CONFIG_ENV})`);
  for (const o of OPTIONS) {
    if (o.fileOnly) continue;
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
Settings file only: tokens (named user tokens with roles; docs/security.md).
Endpoints: GET / (this server), GET /healthz, GET /readyz, GET /metrics (no token); GET /status, GET /api/v1/agents[/ID] (user token).
Exit status: 0 after SIGTERM/SIGINT; 2 when it cannot start (settings, repository, address): the reason is printed to stderr.`);
  cmd.action(async (flags: Record<string, unknown>) => {
    // A worker of --workers N (node:cluster starts this same command): its primary sends the settings.
    if (cluster.isWorker) {
      guardRejections(() => undefined);
      const { runWorker } = await import("../cluster/worker.ts");
      return runWorker();
    }
    let resolved;
    try {
      resolved = resolveSettings({ flags, env: process.env });
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      console.error(`configserver serve: ${e.message}`);
      process.exit(2);
    }
    const { settings, sources, warnings } = resolved;
    // Loaded here, not at the top: `--help` and the other commands do not need the server.
    const [{ createLogger, flushLogger }, { startServer }, { startPrimary }] = await Promise.all([import("../logger.ts"), import("../server.ts"), import("../cluster/primary.ts")]);
    const logger = createLogger(settings.logLevel);
    guardRejections(() => logger);
    for (const w of warnings) logger.warn(w);
    logger.info({ settings: describeSettings(settings), sources }, "settings");
    const created = settings.remote === undefined && isNewFolder(settings.repo);
    let server;
    try {
      server = settings.workers > 1 ? await startPrimary({ ...settings, logger }) : await startServer({ ...settings, logger });
    } catch (err) {
      logger.debug({ err }, "could not start");
      await flushLogger(logger);
      console.error(`configserver serve: ${startupFailure(err, settings)}`);
      process.exit(2);
    }
    if (created) {
      logger.info({ repo: settings.repo, hint: `to start from the template's example configs and CI check, run: ${selfCommand().command} init ${settings.repo} (while this server runs is fine: it serves that commit)` },
        "created a new, empty git repository for the configs (no commits yet)");
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
