import { Option, type Command } from "commander";
import { DEFAULTS } from "../settings/options.ts";
import { configVersionJson, type ConfigVersion } from "../domain/configVersion.ts";
import type { RepositoryFlags } from "./findRepository.ts";

/** What a reader must know before the message: served, refused (and why), or a kept version. */
function marks(v: ConfigVersion): string {
  const out: string[] = [];
  if (v.served) out.push("[served]");
  if (v.refused) out.push(`[refused: ${v.refused[0] ?? "invalid"}${v.refused.length > 1 ? ` (+${v.refused.length - 1} more)` : ""}]`);
  if (v.keeps) out.push(`[same content as ${v.keeps.slice(0, 12)}: version kept]`);
  return out.length > 0 ? `${out.join(" ")} ` : "";
}

/** A table people can read: one line per version, newest first. */
export function formatHistoryText(name: string, versions: readonly ConfigVersion[], what = "config"): string {
  const rows = versions.map((v) => [
    v.action === "deleted" ? "-" : String(v.version),
    v.commit.slice(0, 12),
    v.date,
    v.author,
    marks(v) + (v.action === "deleted" ? `(deleted) ${v.message}` : v.message),
  ]);
  const head = ["VERSION", "COMMIT", "DATE", "AUTHOR", "MESSAGE"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd();
  const count = versions.filter((v) => v.action !== "deleted").length;
  return `${what} ${name}: ${count} version(s), newest first\n` + [head, ...rows].map(line).join("\n") + "\n";
}

export function addHistoryCommand(program: Command): void {
  program
    .command("history")
    .description("list the versions of a config or, with --instance, an instance config (version ↔ commit ↔ author ↔ date), newest first, from the repository's first-parent history; marks the version a server serves and the refused (invalid) ones")
    .argument("<name>", "config name")
    .option("--instance", "NAME is an instance config (instance_configs/NAME.yaml), not a pipeline config")
    .option("--repo <dir>", "the config repository (default: CONFIGSERVER_REPO, \"repo:\" in the settings file, or the current folder)")
    .option("--config <file>", "a serve settings file to take \"repo:\" from (env CONFIGSERVER_CONFIG)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (name: string, o: RepositoryFlags & { format: "text" | "json"; instance?: boolean }) => {
      const [{ findRepository }, history, { Git }, marks] = await Promise.all([
        import("./findRepository.ts"), import("../store/configHistory.ts"), import("../store/git.ts"), import("../store/historyMarks.ts"),
      ]);
      const root = await findRepository(o);
      const kind = o.instance ? history.INSTANCE_CONFIG_HISTORY : history.CONFIG_HISTORY;
      const git = new Git(root);
      // Marked as a server on this repository would see it: the version it serves, the refused ones.
      // The default content limits: a history read without a server checks as a default server would.
      const limits = { maxConfigSize: DEFAULTS.maxConfigSize, secrets: DEFAULTS.secrets };
      const versions = await marks.markHistory(git, await history.readHistory(git, kind, name), await marks.servableCommit(git, limits), limits);
      if (versions.length === 0) throw new Error(history.noHistory(kind, name, root).message);
      process.stdout.write(
        o.format === "json" ? JSON.stringify({ configName: name, versions: versions.map(configVersionJson) }, null, 2) + "\n" : formatHistoryText(name, versions, kind.what),
      );
    });
}
