import { DomainError } from "../domain/errors.ts";
import type { ConfigVersion } from "../domain/configVersion.ts";
import type { ConfigSpec, InstanceConfigSpec, Problem } from "../domain/types.ts";
import type { Git } from "./git.ts";
import { KEEPS_FORMAT, parseKeeps, resolveKept } from "./keptVersions.ts";
import { configPath, instanceConfigPath } from "./repoContent.ts";
import { formatBytes } from "./stateTree.ts";
import { parseConfigFile, parseInstanceConfigFile } from "./yaml/parseFiles.ts";

const ACTIONS: Record<string, ConfigVersion["action"]> = { A: "created", M: "modified", T: "modified", D: "deleted" };

/** One kind of versioned file: where a name's file lives, how a version of it is read, what to call it. */
export interface HistoryKind<S> {
  /** What messages call it. */
  readonly what: "config" | "instance config";
  readonly path: (name: string) => string;
  readonly parse: (file: string, text: string) => { readonly value?: { readonly spec: S & { readonly name: string } }; readonly problems: readonly Problem[] };
}

export const CONFIG_HISTORY: HistoryKind<ConfigSpec> = { what: "config", path: configPath, parse: parseConfigFile };
export const INSTANCE_CONFIG_HISTORY: HistoryKind<InstanceConfigSpec> = { what: "instance config", path: instanceConfigPath, parse: parseInstanceConfigFile };

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The versions of one config or instance config, newest first: every first-parent commit of
 * `rev` that changed its file against its first parent, the same rule the server's VersionIndex
 * uses, so each version maps to exactly one commit and back. Reads git only; never on the agent path.
 */
export async function readHistory(git: Git, kind: HistoryKind<unknown>, name: string, rev = "HEAD"): Promise<ConfigVersion[]> {
  const head = (await git.raw(["rev-parse", "--verify", "-q", `${rev}^{commit}`]).catch(() => "")).trim();
  if (!head) return [];
  // Depth of every first-parent commit: one listing, instead of one rev-list per version.
  const chain = (await git.raw(["rev-list", "--first-parent", head])).split("\n").filter((l) => l !== "");
  const depth = new Map(chain.map((c, i) => [c, chain.length - i]));
  const path = kind.path(name);
  const out = await git.raw([
    "-c", "core.quotePath=false", "log", "--first-parent", "--diff-merges=first-parent", "--no-renames", "--name-status",
    `--format=%x01%H%x02%an%x02%ae%x02%aI%x02%s%x02${KEEPS_FORMAT}`, head, "--", path,
  ]);
  const versions: ConfigVersion[] = [];
  for (const chunk of out.split("\x01")) {
    if (chunk === "") continue;
    const [header = "", ...rest] = chunk.split("\n");
    const [commit = "", author = "", authorEmail = "", date = "", message = "", keeps = ""] = header.split("\x02");
    const status = rest.find((l) => l.endsWith(`\t${path}`))?.[0] ?? "M";
    const action = ACTIONS[status] ?? "modified";
    const at = depth.get(commit) ?? 0;
    // A rollback that put back the content agents hold keeps their version (keptVersions.ts).
    const named = keeps ? parseKeeps(keeps).get(path) : undefined;
    const kept = named !== undefined && action !== "deleted" ? await resolveKept(git, commit, at, path, named) : undefined;
    versions.push({ version: kept?.depth ?? at, commit, action, author, authorEmail, date, message, depth: at, ...(kept ? { keeps: kept.commit } : {}) });
  }
  return versions;
}

export interface AtVersion<S> {
  readonly entry: ConfigVersion;
  readonly spec: S;
  /** The file's text at that version. */
  readonly text: string;
}

export type ConfigAtVersion = AtVersion<ConfigSpec>;

/** The error for a name with no history at all (`where`: in which repository), worded the same by every caller. */
export function noHistory(kind: HistoryKind<unknown>, name: string, where?: string): DomainError {
  return new DomainError("ConfigNotExist", `${capitalized(kind.what)} ${name} doesn't exist and has no history${where ? ` in ${where}` : ""}.`);
}

/**
 * The config (or instance config) as it was at one version. Unknown names and versions are
 * ConfigNotExist errors whose message lists what exists, so a person can pick a valid version.
 */
export async function readVersion<S>(git: Git, kind: HistoryKind<S>, name: string, version: number, rev = "HEAD"): Promise<AtVersion<S>> {
  const What = capitalized(kind.what);
  const history = await readHistory(git, kind, name, rev);
  if (history.length === 0) throw noHistory(kind, name);
  const entry = history.find((v) => v.version === version);
  const known = history.filter((v) => v.action !== "deleted").map((v) => v.version);
  const list = known.length > 12 ? `${known.slice(0, 12).join(", ")}, …` : known.join(", ");
  if (!entry) throw new DomainError("ConfigNotExist", `${What} ${name} has no version ${version}; its versions are ${list} (see its history).`);
  if (entry.action === "deleted") {
    throw new DomainError("ConfigNotExist", `${What} ${name} has no version ${version}: commit ${entry.commit.slice(0, 12)} deleted it; its versions are ${list}.`);
  }
  const path = kind.path(name);
  // History reaches commits the server refused: one may hold a file too large to read.
  const size = Number((await git.raw(["cat-file", "-s", `${entry.commit}:${path}`]).catch(() => "0")).trim());
  if (size > git.maxBlobBytes) {
    throw new DomainError("BadRequest", `Version ${version} of ${kind.what} ${name} (commit ${entry.commit.slice(0, 12)}) is ${formatBytes(size)} (${size} bytes), larger than the limit of ${formatBytes(git.maxBlobBytes)} (--max-file-size), so it is not read.`);
  }
  const [blob] = await git.catFileBatch([`${entry.commit}:${path}`]);
  const text = blob?.toString("utf8") ?? "";
  const parsed = kind.parse(path, text);
  const spec = parsed.value?.spec;
  if (!spec || parsed.problems.length > 0 || spec.name !== name) {
    const why = parsed.problems[0]?.message ?? `its config_name is ${JSON.stringify(spec?.name ?? "")}`;
    throw new DomainError("BadRequest", `Version ${version} of ${kind.what} ${name} (commit ${entry.commit.slice(0, 12)}) is not a valid ${kind.what} file (${why}), so it cannot be restored.`);
  }
  return { entry, spec, text };
}

export const readConfigVersion = (git: Git, name: string, version: number, rev = "HEAD"): Promise<ConfigAtVersion> => readVersion(git, CONFIG_HISTORY, name, version, rev);
