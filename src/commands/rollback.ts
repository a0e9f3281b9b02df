import { InvalidArgumentError, Option, type Command } from "commander";
import { CliError } from "./cliError.ts";
import type { RollbackOptions } from "./runRollback.ts";

function version(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer (a version from `configserver history`)");
  return n;
}

export function addRollbackCommand(program: Command): void {
  program
    .command("rollback")
    .description("restore a config's file as it was at an earlier version, as one new commit; works while HEAD fails validation (it is how a broken commit is repaired); putting back the version agents hold keeps its version number")
    .argument("<name>", "config name")
    .requiredOption("--to <version>", "the version to restore (see `configserver history NAME`)", version)
    .option("--repo <dir>", "the config repository, written directly (no server needed; default: CONFIGSERVER_REPO, \"repo:\" in the settings file, or the current folder); the commit is local: push it yourself")
    .option("--config <file>", "a serve settings file to take \"repo:\" from (env CONFIGSERVER_CONFIG)")
    .addOption(new Option("--server <url>", "ask a running server to do the rollback instead (it commits and pushes)").conflicts(["repo", "config"]))
    .option("--token <token>", "bearer token for --server's User API, when it requires one")
    .option("--author <identity>", "the commit's author, \"Name <email>\" (default: git's user.name/user.email, or the server's identity)")
    .option("--message <text>", "the commit's subject line (what was restored follows in its body)")
    .action(async (name: string, o: RollbackOptions) => {
      if (o.token !== undefined && o.server === undefined) throw new CliError("--token is the User API token of a running server: it needs --server URL");
      const { rollbackLocally, rollbackOnServer } = await import("./runRollback.ts");
      console.log(o.server ? await rollbackOnServer(name, { ...o, server: o.server }) : await rollbackLocally(name, o));
    });
}
