import { Command, CommanderError } from "commander";
import { CliError } from "./commands/cliError.ts";
import { addHistoryCommand } from "./commands/history.ts";
import { addInitCommand } from "./commands/init.ts";
import { addRollbackCommand } from "./commands/rollback.ts";
import { addRolloutCommand } from "./commands/rollout.ts";
import { addServeCommand } from "./commands/serve.ts";
import { addValidateCommand } from "./commands/validate.ts";
import { addImportCommand } from "./commands/import.ts";
import { addExamplesAndUsageHints } from "./commands/examples.ts";
import { redactSecrets } from "./store/redact.ts";
import { VERSION } from "./version.ts";

// The command files only declare their options; each action imports what it runs, so `--help`,
// `--version` and `validate` do not load the server (see "CLI start" in BENCHMARKS.md).
const program = new Command()
  .name("configserver")
  .description("GitOps ConfigServer for iLogtail agents: configs and agent groups live in a git repository.")
  .version(VERSION, "-V, --version", "print the version")
  // Usage errors (unknown option, missing argument) exit 2 like every "could not run"; help and version 0.
  .exitOverride((e: CommanderError) => process.exit(e.exitCode === 0 ? 0 : 2));

addServeCommand(program);
addInitCommand(program);
addValidateCommand(program);
addHistoryCommand(program);
addRollbackCommand(program);
addRolloutCommand(program);
addImportCommand(program);
addExamplesAndUsageHints(program);

program.parseAsync().catch((e: unknown) => {
  const command = program.args[0] && program.commands.some((c) => c.name() === program.args[0]) ? ` ${program.args[0]}` : "";
  console.error(`configserver${command}: ${redactSecrets((e as Error).message ?? String(e))}`);
  process.exit(e instanceof CliError ? e.exitCode : 1);
});
