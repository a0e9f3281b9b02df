import { cp, mkdir, readdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError, Option } from "commander";
import { createLogger, type LogLevel } from "./logger.ts";
import { DEFAULTS, startServer } from "./server.ts";
import { Git } from "./store/git.ts";
import { readRepoContent } from "./store/repoContent.ts";
import { readWorkingTree } from "./store/workingTree.ts";
import { formatProblems, type ProblemFormat } from "./problemFormat.ts";
import { DEFAULT_AUTHOR } from "./store/git.ts";

const templateDir = fileURLToPath(new URL("../config-repo-template/", import.meta.url));

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("must be an integer from 0 to 65535");
  return n;
}

const program = new Command()
  .name("configserver")
  .description("GitOps ConfigServer for iLogtail agents: configs and agent groups live in a git repository.")
  .showHelpAfterError();

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

program
  .command("init")
  .description("create a new config repository from the template")
  .argument("<dir>", "directory to create (must be missing or empty)")
  .action(async (dir: string) => {
    if (existsSync(dir) && (await readdir(dir)).length > 0) throw new Error(`${dir} already exists and is not empty`);
    await mkdir(dir, { recursive: true });
    await cp(templateDir, dir, { recursive: true });
    const git = new Git(dir);
    await git.raw(["init", "-q", "--initial-branch=main"]);
    await git.raw(["add", "-A"]);
    await git.raw(["-c", `user.name=${DEFAULT_AUTHOR.name}`, "-c", `user.email=${DEFAULT_AUTHOR.email}`, "commit", "-q", "--no-verify", "--no-gpg-sign", "-m", "Create config repository from the configserver template"]);
    console.log(`Created a config repository in ${dir}. Serve it with: configserver serve --repo ${dir}`);
  });

program
  .command("validate")
  .description("check a config repository's files exactly as the server checks a commit (for CI)")
  .argument("[dir]", "repository directory", ".")
  .addOption(new Option("--format <format>", "output format").choices(["text", "json", "github"]).default("text"))
  .action(async (dir: string, o: { format: ProblemFormat }) => {
    const content = readRepoContent(await readWorkingTree(dir));
    process.stdout.write(formatProblems(content.problems, o.format, { configs: content.configs.length, groups: content.groups.length }));
    process.exitCode = content.problems.length > 0 ? 1 : 0;
  });

program.parseAsync().catch((e: unknown) => {
  console.error(`configserver: ${(e as Error).message}`);
  process.exit(1);
});
