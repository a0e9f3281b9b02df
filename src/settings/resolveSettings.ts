import { dirname, resolve } from "node:path";
import { describeFaults, FAULT_PREFIX } from "../faults.ts";
import { redactUrl } from "../redis/redactUrl.ts";
import { redactSecrets } from "../store/redact.ts";
import { shownUrl } from "../notify/shownUrl.ts";
import { envName, flagKey, MAX_LIST_ITEMS, OPTIONS, settingKey, type OptionSpec, type Settings } from "./options.ts";
import { readSettingsFile } from "./settingsFile.ts";
import { describeTokens } from "./tokensSetting.ts";
import { PARSERS } from "./valueParsers.ts";

export type Source = "flag" | "env" | "file" | "default";

export const CONFIG_ENV = "CONFIGSERVER_CONFIG";
/** Not a setting: bin/configserver's switch to run the TypeScript sources (development). */
const FROM_SOURCE_ENV = "CONFIGSERVER_FROM_SOURCE";

/** Thrown with every problem found; `message` is what the operator reads. */
export class SettingsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid settings (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "SettingsError";
  }
}

export interface SettingsInput {
  /** Parsed flags, keyed by camelCase option name (commander's `opts()`); absent = not given. */
  readonly flags: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where relative paths (and the settings file) are resolved; default process.cwd(). */
  readonly cwd?: string;
}

export interface ResolvedSettings {
  readonly settings: Settings;
  /** Where each option's value came from (for the start-up log). */
  readonly sources: Readonly<Record<string, Source>>;
  /** Not fatal, but worth a log line. */
  readonly warnings: readonly string[];
}

/** One place an option is set, in order of preference. */
interface Candidate {
  readonly source: Exclude<Source, "default">;
  readonly raw: unknown;
  /** How to name this value in a problem: `--port`, `CONFIGSERVER_PORT`, `port in /etc/x.yaml`. */
  readonly where: string;
  /** For paths read from the file: relative to the file. */
  readonly base: string;
}

/** Environment variables with the settings prefix that name no setting (likely a typo): one warning each. */
export function unknownEnvWarnings(env: SettingsInput["env"]): string[] {
  const known = new Set([...OPTIONS.map((o) => envName(o.name)), CONFIG_ENV, FROM_SOURCE_ENV]);
  const warnings = Object.keys(env)
    .filter((key) => key.startsWith("CONFIGSERVER_") && !key.startsWith(FAULT_PREFIX) && !known.has(key))
    .map((key) => `environment variable ${key} is not a configserver setting; ignored`);
  // Fault injection is for tests: a process started with it says so once, instead of a warning per variable.
  const faultLine = describeFaults(env);
  if (faultLine !== undefined) warnings.push(faultLine);
  return warnings;
}

interface Resolved {
  /** Parsed values by option name (undefined: unset or refused). */
  readonly values: Record<string, unknown>;
  readonly sources: Record<string, Source>;
  readonly wheres: Record<string, string>;
  readonly problems: string[];
  readonly configFile: string | undefined;
}

/** Flags > environment > settings file > defaults, for the options named (default: all). */
function resolveValues(input: SettingsInput, names?: readonly string[]): Resolved {
  const cwd = input.cwd ?? process.cwd();
  const problems: string[] = [];
  const configFlag = input.flags.config;
  const configRaw = typeof configFlag === "string" ? configFlag : input.env[CONFIG_ENV];
  const configFile = configRaw ? resolve(cwd, configRaw) : undefined;
  const file = configFile ? readSettingsFile(configFile, problems) : {};
  const fileBase = configFile ? dirname(configFile) : cwd;

  const candidates = (o: OptionSpec): Candidate[] => {
    const out: Candidate[] = [];
    if (o.fileOnly) {
      // Tokens on a command line are in every `ps` and shell history; structure does not fit a flag.
      for (const where of [input.flags[flagKey(o.name)] !== undefined ? `--${o.name}` : undefined, input.env[envName(o.name)] !== undefined ? envName(o.name) : undefined]) {
        if (where) problems.push(`${where}: ${o.name} can only be set in the settings file (--config), as "${o.name}:"`);
      }
      if (Object.hasOwn(file, o.name)) out.push({ source: "file", raw: file[o.name], where: `${o.name} in ${configFile}`, base: fileBase });
      return out;
    }
    const flag = input.flags[flagKey(o.name)];
    if (flag !== undefined) out.push({ source: "flag", raw: flag, where: o.kind === "bool" && flag === false ? `--no-${o.name}` : `--${o.name}`, base: cwd });
    const env = input.env[envName(o.name)];
    if (env !== undefined) out.push({ source: "env", raw: env, where: envName(o.name), base: cwd });
    if (Object.hasOwn(file, o.name)) out.push({ source: "file", raw: file[o.name], where: `${o.name} in ${configFile}`, base: fileBase });
    return out;
  };

  /** The option's parser from the table, on the candidate (or the default); problems are collected. */
  const read = (o: OptionSpec, c: Candidate | undefined): unknown => {
    const raw = c ? c.raw : o.default;
    if (raw === undefined) return undefined;
    const where = c ? c.where : `default of --${o.name}`;
    // A structured value (the tokens list) is handed to its parser as JSON, and never shown.
    if (o.kind === "tokens") {
      const parsed = PARSERS.tokens(JSON.stringify(raw), { base: c?.base ?? cwd });
      return "problem" in parsed ? void problems.push(`${where}: ${parsed.problem}`) : parsed.value;
    }
    if (o.list) return readList(o, c, raw, where);
    // A list kind (networks, host names) takes a YAML list in the settings file.
    const listed = (o.kind === "networks" || o.kind === "hosts") && Array.isArray(raw) && raw.every((x) => typeof x === "string") ? raw.join(",") : raw;
    const shown = o.kind === "secret" ? "(value hidden)" : JSON.stringify(raw);
    // YAML gives booleans and numbers; a switch takes anything that reads as one.
    if (o.kind !== "bool" && typeof listed !== "string" && typeof listed !== "number") return void problems.push(`${where}: ${shown} must be a string or a number`);
    const parsed = PARSERS[o.kind](String(listed), { base: c?.base ?? cwd, choices: o.choices });
    if ("problem" in parsed) return void problems.push(`${where}: ${shown} ${parsed.problem}`);
    if (o.nonZero && parsed.value === 0) return void problems.push(`${where}: must be more than 0`);
    return parsed.value;
  };

  /** A list option: each item read by the kind's parser, all problems collected; undefined when any is refused. */
  const readList = (o: OptionSpec, c: Candidate | undefined, raw: unknown, where: string): readonly unknown[] | undefined => {
    // The flag is collected by commander into an array; the environment holds one text; YAML a list or one value.
    const items: unknown[] = Array.isArray(raw) ? raw : c?.source === "env" ? String(raw).split(/[\s,]+/).filter((x) => x !== "") : [raw];
    if (items.length === 0) return void problems.push(`${where}: is empty: give at least one value, or leave it out`);
    if (items.length > MAX_LIST_ITEMS) return void problems.push(`${where}: has ${items.length} values; at most ${MAX_LIST_ITEMS}`);
    const out: unknown[] = [];
    let bad = false;
    for (const [i, item] of items.entries()) {
      const at = items.length > 1 ? `${where} (value ${i + 1})` : where;
      // A URL may hold credentials: a problem shows it without them.
      const shown = o.kind === "secret" ? "(value hidden)" : redactSecrets(JSON.stringify(item));
      if (typeof item !== "string" && typeof item !== "number") { bad = true; problems.push(`${at}: ${shown} must be a string`); continue; }
      const parsed = PARSERS[o.kind](String(item), { base: c?.base ?? cwd, choices: o.choices });
      if ("problem" in parsed) { bad = true; problems.push(`${at}: ${shown} ${parsed.problem}`); continue; }
      if (out.includes(parsed.value)) { bad = true; problems.push(`${at}: ${shown} is listed twice`); continue; }
      out.push(parsed.value);
    }
    return bad ? undefined : Object.freeze(out);
  };

  const values: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  const wheres: Record<string, string> = {};
  const byName = new Map(OPTIONS.map((o) => [o.name, o]));
  for (const o of OPTIONS) {
    if (o.kind === "secretFile" || (names && !names.includes(o.name))) continue;
    // A secret and its *-file form are one setting: the most preferred source giving either wins.
    const fileForm = o.kind === "secret" ? byName.get(`${o.name}-file`) : undefined;
    const direct = candidates(o);
    const viaFile = fileForm ? candidates(fileForm) : [];
    const first = [...direct, ...viaFile].map((c) => c.source).sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b))[0];
    const d = direct.find((c) => c.source === first);
    const f = viaFile.find((c) => c.source === first);
    if (d && f) problems.push(`${d.where} and ${f.where}: set one of them, not both`);
    else values[o.name] = f && fileForm ? read(fileForm, f) : read(o, d);
    sources[o.name] = first ?? "default";
    wheres[o.name] = (d ?? f)?.where ?? `default of --${o.name}`;
  }
  return { values, sources, wheres, problems, configFile };
}

const ORDER: readonly Source[] = ["flag", "env", "file"];

/**
 * Resolves the settings from flags, environment, settings file and defaults, each value read by
 * its option's parser. Throws a SettingsError listing every problem at once; the settings are
 * frozen. Never reads process.argv or process.env itself.
 */
export function resolveSettings(input: SettingsInput): ResolvedSettings {
  const { values, sources, problems, configFile } = resolveValues(input);
  for (const o of OPTIONS) {
    if (o.required !== undefined && values[o.name] === undefined && sources[o.name] === "default") {
      problems.push(`${o.required} is required: set --${o.name}, ${envName(o.name)} or "${o.name}:" in a settings file (--config)`);
    }
  }
  if (problems.length > 0) throw new SettingsError(problems);
  const out: Record<string, unknown> = { configFile };
  for (const o of OPTIONS) if (o.kind !== "secretFile") out[settingKey(o)] = values[o.name];
  return { settings: Object.freeze(out) as Settings, sources: Object.freeze(sources), warnings: unknownEnvWarnings(input.env) };
}

/**
 * The repository as `serve` would find it (--repo, CONFIGSERVER_REPO, or "repo:" in the settings
 * file from --config or CONFIGSERVER_CONFIG), for the commands that open it without serving
 * (history, rollback); undefined when none of them sets it. Throws a SettingsError for a bad value.
 */
export function resolveRepository(input: SettingsInput): { readonly repo: string; readonly where: string } | undefined {
  const { values, wheres, problems } = resolveValues(input, ["repo"]);
  if (problems.length > 0) throw new SettingsError(problems);
  return typeof values.repo === "string" ? { repo: values.repo, where: wheres.repo as string } : undefined;
}

/** What the start-up log shows: secrets replaced by whether they are set. */
export function describeSettings(s: Settings): Record<string, unknown> {
  const shown: Record<string, unknown> = { ...s };
  for (const o of OPTIONS) if (o.kind === "secret") shown[settingKey(o)] = shown[settingKey(o)] ? "(set)" : null;
  if (s.tokens) shown.tokens = describeTokens(s.tokens);
  shown.registry = redactUrl(s.registry);
  if (s.remote !== undefined) shown.remote = redactSecrets(s.remote);
  if (s.notifyUrl !== undefined) shown.notifyUrl = s.notifyUrl.map(shownUrl);
  return shown;
}
