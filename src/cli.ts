import { Command } from "commander";
import { addInitCommand } from "./commands/init.ts";
import { addServeCommand } from "./commands/serve.ts";
import { addValidateCommand } from "./commands/validate.ts";
import { addHistoryCommand } from "./commands/history.ts";
import { addRollbackCommand } from "./commands/rollback.ts";

const program = new Command()
  .name("configserver")
  .description("GitOps ConfigServer for iLogtail agents: configs and agent groups live in a git repository.")
  .showHelpAfterError();

addServeCommand(program);
addInitCommand(program);
addValidateCommand(program);
addHistoryCommand(program);
addRollbackCommand(program);

program.parseAsync().catch((e: unknown) => {
  console.error(`configserver: ${(e as Error).message}`);
  process.exit(1);
});
