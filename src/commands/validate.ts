import { Option, type Command } from "commander";
import { formatProblems, type ProblemFormat } from "../problemFormat.ts";
import { readRepoContent } from "../store/repoContent.ts";
import { readWorkingTree } from "../store/workingTree.ts";

export function addValidateCommand(program: Command): void {
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
}
