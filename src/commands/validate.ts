import { DEFAULTS } from "../settings/options.ts";
import { Option, type Command } from "commander";
import { OPTIONS } from "../settings/options.ts";
import type { ValidateOptions } from "./runValidate.ts";

/** A serve option validate shares: its description and default come from the option table. */
function servedOption(name: string, value: string): Option {
  const row = OPTIONS.find((o) => o.name === name);
  if (!row) throw new Error(`no serve option --${name}`);
  const option = new Option(`--${name} <${value}>`, `${row.description} (as the server's --${name})`);
  if (row.choices) option.choices(row.choices);
  return row.default === undefined ? option : option.default(row.default);
}

export function addValidateCommand(program: Command): void {
  program
    .command("validate")
    .description("check a config repository's files exactly as the server checks a commit (for CI); with --base, also preview the change in Markdown")
    .argument("[dir]", "the config repository's folder (the one with configs/, agent_groups/, instance_configs/)", ".")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "github"]).default("text"))
    .option("--base <rev>", "preview what DIR changes relative to this revision (e.g. origin/main): configs added/changed/removed, groups affected")
    .option("--head <rev>", "check (and preview) this commit instead of the working tree")
    .addOption(servedOption("max-config-size", "size"))
    .addOption(servedOption("secrets", "mode"))
    .option("--preview-file <file>", "write the Markdown preview to this file instead of stdout (for a PR comment); needs --base")
    .option("--max-file-size <size>", "largest state file read, as the server's --max-file-size (e.g. 4MiB, 512KiB, bytes); larger files are problems", String(DEFAULTS.maxFileSize))
    .addHelpText("after", "\nExit status: 0 when the server would serve it, 1 when it has problems (listed), 2 when it could not be checked (no such folder, not a config repository, unknown revision).")
    .action(async (dir: string, o: Omit<ValidateOptions, "maxFileSize"> & { maxFileSize: string }) => {
      const [{ runValidate }, { parseSize }, { CliError }] = await Promise.all([import("./runValidate.ts"), import("../settings/valueParsers.ts"), import("./cliError.ts")]);
      const maxFileSize = parseSize(o.maxFileSize);
      if (maxFileSize === undefined || maxFileSize <= 0) throw new CliError(`--max-file-size ${JSON.stringify(o.maxFileSize)} is not a size (e.g. 4MiB, 512KiB, 1000000)`);
      const r = await runValidate(dir, { ...o, maxFileSize });
      process.stdout.write(r.output);
      process.exitCode = r.content.problems.length > 0 ? 1 : 0;
    });
}
