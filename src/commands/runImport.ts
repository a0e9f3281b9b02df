import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { importProblems, planImport, type ImportPlan } from "../domain/importPlan.ts";
import { RepoState } from "../domain/repoState.ts";
import { configPath, groupPath } from "../store/repoContent.ts";
import { DEFAULTS } from "../settings/options.ts";
import { RepoStore } from "../store/repoStore.ts";
import { configuredAuthor } from "../store/repositoryRoot.ts";
import { CliError } from "./cliError.ts";
import { readSource, type ReadSource, type SourceProtocol } from "./importSource.ts";

export interface ImportOptions {
  readonly from: string;
  readonly protocol: SourceProtocol;
  readonly repo: string;
  readonly dryRun?: boolean;
  readonly token?: string;
}

export interface ImportReport {
  readonly source: ReadSource;
  readonly plan: ImportPlan;
  /** The commit made, or undefined for a dry run or when nothing changed. */
  readonly commit: string | undefined;
  /** What to print at the end. */
  readonly summary: string;
}

/** The source cannot be imported as it is; nothing was written. */
export class ImportRefused extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Nothing was imported: ${problems.length} problem(s) in the source must be fixed there first (names become file names, so they must follow the name rule):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/**
 * Reads every agent group, config and binding of a running ConfigServer's User API and writes them
 * into the repository as one commit, through the same writer as the User API (so the commit is
 * validated, and a failed write leaves nothing behind). Nothing is written when any name breaks
 * the rule. `progress` gets a line per step.
 */
export async function runImport(o: ImportOptions, progress: (line: string) => void = () => {}): Promise<ImportReport> {
  const source = await readSource({ url: o.from, protocol: o.protocol, token: o.token, progress });
  const problems = importProblems(source);
  if (problems.length > 0) throw new ImportRefused(problems);

  let plan: ImportPlan;
  let commit: string | undefined;
  let versionOf: (name: string) => number | undefined;
  if (o.dryRun) {
    // Nothing is created for a dry run: a missing or empty folder is planned against as an empty repository.
    const existing = existsSync(join(o.repo, ".git"));
    if (!existing && existsSync(o.repo) && readdirSync(o.repo).length > 0) throw new CliError(`${o.repo} is not empty and not a git repository: point --repo at a git repository, or at a new or empty directory`);
    const store = existing ? await RepoStore.open(o.repo, { author: DEFAULTS.author, lockWaitMs: DEFAULTS.lockWaitMs, contentLimits: { maxConfigSize: DEFAULTS.maxConfigSize, secrets: DEFAULTS.secrets } }) : undefined;
    const state = store?.state ?? new RepoState("", 0, 0, [], []);
    plan = planImport(state, source);
    await store?.close();
    const next = state.depth + 1;
    versionOf = (name) => (plan.entries.find((e) => e.kind === "config" && e.name === name)?.outcome === "unchanged" ? state.configs.get(name)?.version : next);
  } else {
    progress(`Writing into ${o.repo}…`);
    const author = existsSync(join(o.repo, ".git")) ? await configuredAuthor(o.repo) : undefined;
    const store = await RepoStore.open(o.repo, { author: author ?? DEFAULTS.author, lockWaitMs: DEFAULTS.lockWaitMs, contentLimits: { maxConfigSize: DEFAULTS.maxConfigSize, secrets: DEFAULTS.secrets } });
    try {
      let planned: ImportPlan | undefined;
      const result = await store.write((state) => (planned = planImport(state, source)));
      plan = planned as ImportPlan;
      commit = result.commit;
      versionOf = (name) => result.state.configs.get(name)?.version;
    } finally {
      await store.close();
    }
  }
  return { source, plan, commit, summary: summarize(o, source, plan, commit, versionOf) };
}

function summarize(o: ImportOptions, source: ReadSource, plan: ImportPlan, commit: string | undefined, versionOf: (name: string) => number | undefined): string {
  const lines: string[] = [];
  const written = plan.entries.filter((e) => e.outcome !== "unchanged").length;
  if (o.dryRun) lines.push(`Dry run: nothing was written. The import would write ${written} file(s) into ${o.repo} as one commit:`, `  "${plan.message}"`);
  else if (commit) lines.push(`Imported ${source.configs.length} config(s), ${source.groups.length} agent group(s) and ${plan.bindings} binding(s) from ${source.label} into ${o.repo}: commit ${commit.slice(0, 12)}.`);
  else lines.push(`The repository already holds everything ${source.label} has: nothing to commit.`);
  for (const e of plan.entries) lines.push(`  ${e.outcome.padEnd(9)} ${e.kind === "config" ? configPath(e.name) : groupPath(e.name)}`);
  const notes = [...source.notes];
  for (const d of plan.dangling) notes.push(`Agent group ${d.group} applies config ${d.config}, which the source does not list: that binding was not imported.`);
  // Agents keep what they run when the version they report equals the served one (docs/protocols/v1.md).
  const same = [...source.versions].filter(([name, v]) => versionOf(name) === v).map(([name]) => name);
  if (same.length > 0) {
    notes.push(`${same.length} config(s) have the same version here as on the source, so agents that report that version are not sent them again after the switch (harmless for agents that were up to date with the source): ${same.join(", ")}.`);
  }
  if (notes.length > 0) lines.push("Notes:", ...notes.map((n) => `  - ${n}`));
  if (!o.dryRun && commit) lines.push("Validate it with `configserver validate`; serve it with `configserver serve --repo` and point the agents' ilogtail_configserver_address here.");
  return lines.join("\n");
}
