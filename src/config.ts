import { readFileSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { parseRegistry, redactUrl } from "./agents/registryUrl.ts";
import { parseIdentity, type Person } from "./domain/identity.ts";
import type { LogLevel } from "./logger.ts";

export type Source = "flag" | "env" | "file" | "default";

type Kind = "string" | "dir" | "port" | "bool" | "duration" | "size" | "level" | "choice" | "identity" | "secret" | "secretFile" | "processes";

export interface OptionSpec {
  /** Flag name without dashes; also the key in the settings file. */
  readonly name: string;
  readonly kind: Kind;
  /** Shown as `--name <value>`. */
  readonly valueName?: string;
  readonly description: string;
  /** Default as a person writes it (also what --help shows); undefined = unset. */
  readonly default?: string;
  /** No default, yet it must be set. */
  readonly required?: true;
  /** The values a "choice" option takes. */
  readonly choices?: readonly string[];
}

export const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * Every serve option, in --help order: the one table the flags, the environment variables, the
 * settings file keys, `Settings` and (in src/server.ts) `ServerOptions` all come from. The env
 * name is CONFIGSERVER_ + NAME with _ for -; the Settings key is the camelCase name, with `Ms`
 * for durations (in milliseconds). A `*-file` option is read into the setting it names.
 */
const TABLE = [
  { name: "repo", kind: "dir", required: true, valueName: "dir", description: "the config repository (created when missing or empty; cloned from --remote when set)" },
  { name: "host", kind: "string", valueName: "address", description: "address to listen on", default: "127.0.0.1" },
  { name: "port", kind: "port", valueName: "port", description: "port to listen on (0 picks a free one)", default: "8899" },
  { name: "read-only", kind: "bool", description: "refuse User API writes (changes come by pull request)", default: "false" },
  { name: "author", kind: "identity", valueName: "identity", description: 'git identity of User API commits, "Name <email>": their committer, and their author when a request names none (header X-Configserver-Author)', default: "configserver <configserver@localhost>" },
  { name: "log-level", kind: "level", valueName: "level", description: `log level: ${LOG_LEVELS.join(", ")}`, default: "info" },
  { name: "body-limit", kind: "size", valueName: "size", description: "largest request body accepted (e.g. 4MiB, 512KiB, 1000000)", default: "4MiB" },
  { name: "request-timeout", kind: "duration", valueName: "duration", description: "answer RequestTimeout (HTTP 500) when a request takes longer; 0 = never", default: "30s" },
  { name: "agent-ttl", kind: "duration", valueName: "duration", description: "forget agents silent this long; 0 = never", default: "10m" },
  { name: "lock-wait", kind: "duration", valueName: "duration", description: "how long a write waits for a lock another git command holds in the repository (index.lock, a ref's lock) before it is refused ServerBusy", default: "5s" },
  { name: "shutdown-timeout", kind: "duration", valueName: "duration", description: "on SIGTERM/SIGINT, how long in-flight requests may take before the process exits anyway", default: "10s" },
  { name: "user-token", kind: "secret", valueName: "token", description: "require `Authorization: Bearer <token>` on /User/*, /api/* and /status (prefer --user-token-file)" },
  { name: "user-token-file", kind: "secretFile", valueName: "file", description: "read the user token from this file" },
  { name: "agent-token", kind: "secret", valueName: "token", description: "require `Authorization: Bearer <token>` on /Agent/* and /v1/opamp (prefer --agent-token-file)" },
  { name: "agent-token-file", kind: "secretFile", valueName: "file", description: "read the agent token from this file" },
  { name: "remote", kind: "string", valueName: "url", description: "git remote to clone, follow and push to" },
  { name: "branch", kind: "string", valueName: "name", description: "branch of the remote to follow", default: "main" },
  { name: "sync-interval", kind: "duration", valueName: "duration", description: "how often to fetch the remote (jitter is added)", default: "30s" },
  { name: "allow-history-rewrite", kind: "bool", description: "follow the remote branch even when its history was rewritten", default: "false" },
  { name: "webhook-secret", kind: "secret", valueName: "secret", description: "shared secret verifying push webhooks on POST /hooks/git (prefer --webhook-secret-file)" },
  { name: "webhook-secret-file", kind: "secretFile", valueName: "file", description: "read the webhook secret from this file" },
  { name: "v2-config-details", kind: "choice", choices: ["heartbeat", "fetch"], valueName: "mode", description: "protocol v2 agents get config details in the heartbeat answer (heartbeat), or are told to fetch them (fetch)", default: "heartbeat" },
  { name: "v2-long-poll", kind: "duration", valueName: "duration", description: "the longest a v2 heartbeat with WaitForChange=true is held (kept under --request-timeout); 0 = answer at once", default: "20s" },
  { name: "registry", kind: "string", valueName: "memory|url", description: "where agents are remembered: memory (this process) or redis://host:port/db, shared by every replica behind one load balancer (docs/deployment.md)", default: "memory" },
  { name: "workers", kind: "processes", valueName: "N|auto", description: "processes answering agents on the one port (auto = one per core); with more than 1, a primary process watches, syncs and writes the repository and the workers share its snapshot and fleet view (docs/deployment.md)", default: "1" },
] as const satisfies readonly OptionSpec[];

export const OPTIONS: readonly OptionSpec[] = TABLE;

type Row = (typeof TABLE)[number];
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
type KeyOf<R extends Row> = R["kind"] extends "duration" ? `${Camel<R["name"]>}Ms` : Camel<R["name"]>;
type ValueOf<K extends Kind> = K extends "bool" ? boolean : K extends "port" | "duration" | "size" | "processes" ? number : K extends "level" ? LogLevel : K extends "identity" ? Person : string;
type Valued<R extends Row> = R extends { choices: readonly (infer C)[] } ? C : ValueOf<R["kind"]>;
type Settled<R extends Row> = R extends { default: string } | { required: true } ? Valued<R> : Valued<R> | undefined;

/**
 * `configserver serve` settings: flags > environment (CONFIGSERVER_*) > settings file (YAML) >
 * defaults. Everything is validated at once; the result is frozen. One key per row of the table
 * (a `*-file` row fills its secret's key), plus the settings file that was read, if any.
 */
export type Settings = { readonly [R in Exclude<Row, { kind: "secretFile" }> as KeyOf<R>]: Settled<R> } & { readonly configFile: string | undefined };

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
/** The Settings key of an option (KeyOf above, at run time). */
export const settingKey = (o: OptionSpec): string => camel(o.name) + (o.kind === "duration" ? "Ms" : "");

export const envName = (name: string) => `CONFIGSERVER_${name.toUpperCase().replace(/-/g, "_")}`;
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

interface Candidate {
  readonly source: Exclude<Source, "default">;
  readonly raw: unknown;
  /** How to name this value in a problem: `--port`, `CONFIGSERVER_PORT`, `port in /etc/x.yaml`. */
  readonly where: string;
  /** For paths read from the file: relative to the file. */
  readonly base: string;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3 };

/** `500ms`, `30s`, `10m`, `1h30m`, `0`. A bare number other than 0 is refused: the unit must be said. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === "0") return 0;
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(s)) return undefined;
  let ms = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) ms += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
  return Math.round(ms);
}

/** More processes than this is a typo (or a machine this server was not measured on). */
export const MAX_WORKERS = 256;

/** `N` (1 to MAX_WORKERS) or `auto`: one per core this process may use. */
export function parseWorkers(text: string, cores = availableParallelism()): number | undefined {
  const s = text.trim().toLowerCase();
  if (s === "auto") return Math.max(1, cores);
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= MAX_WORKERS ? n : undefined;
}

/** `4MiB`, `512KiB`, `1MB`, `1000000` (bytes). */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[(m?.[2] ?? "").toLowerCase()];
  if (!m || unit === undefined) return undefined;
  return Math.floor(Number(m[1]) * unit);
}

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off", ""]);

/** Reads and checks the YAML settings file; problems go to `problems`. */
export function readSettingsFile(path: string, problems: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    problems.push(`settings file ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    return {};
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    problems.push(`settings file ${path}: not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    return {};
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    problems.push(`settings file ${path}: must be a mapping of option names to values (e.g. "port: 8899")`);
    return {};
  }
  const known = new Set(OPTIONS.map((o) => o.name));
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (!known.has(key)) {
      problems.push(`settings file ${path}: unknown option "${key}" (known: ${[...known].join(", ")})`);
      continue;
    }
    values[key] = value;
  }
  return values;
}

interface Resolved {
  /** Parsed values by option name. */
  readonly values: Record<string, unknown>;
  readonly sources: Record<string, Source>;
  readonly wheres: Record<string, string>;
  readonly problems: string[];
  readonly warnings: string[];
  readonly configFile: string | undefined;
}

/** Flags > environment > settings file > defaults, for the options named (default: all). */
function resolveValues(input: SettingsInput, names?: readonly string[]): Resolved {
  const cwd = input.cwd ?? process.cwd();
  const problems: string[] = [];
  const warnings: string[] = [];

  const configFlag = input.flags.config;
  const configEnv = input.env[CONFIG_ENV];
  const configRaw = typeof configFlag === "string" ? configFlag : configEnv;
  const configFile = configRaw ? resolve(cwd, configRaw) : undefined;
  const file = configFile ? readSettingsFile(configFile, problems) : {};
  const fileBase = configFile ? dirname(configFile) : cwd;

  const known = new Set([...OPTIONS.map((o) => envName(o.name)), CONFIG_ENV, FROM_SOURCE_ENV]);
  for (const key of Object.keys(input.env)) {
    if (key.startsWith("CONFIGSERVER_") && !known.has(key)) warnings.push(`environment variable ${key} is not a configserver setting; ignored`);
  }

  const candidates = (o: OptionSpec): Candidate[] => {
    const out: Candidate[] = [];
    const flag = input.flags[camel(o.name)];
    if (flag !== undefined) out.push({ source: "flag", raw: flag, where: o.kind === "bool" && flag === false ? `--no-${o.name}` : `--${o.name}`, base: cwd });
    const env = input.env[envName(o.name)];
    if (env !== undefined) out.push({ source: "env", raw: env, where: envName(o.name), base: cwd });
    if (Object.hasOwn(file, o.name)) out.push({ source: "file", raw: file[o.name], where: `${o.name} in ${configFile}`, base: fileBase });
    return out;
  };

  const values: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  const wheres: Record<string, string> = {};

  const parse = (o: OptionSpec, c: Candidate | undefined): unknown => {
    const raw = c ? c.raw : o.default;
    if (raw === undefined) return undefined;
    const where = c ? c.where : `default of --${o.name}`;
    const bad = (why: string) => {
      const shown = o.kind === "secret" ? "(value hidden)" : JSON.stringify(raw);
      problems.push(`${where}: ${shown} ${why}`);
      return undefined;
    };
    if (o.kind === "bool") {
      if (typeof raw === "boolean") return raw;
      const s = String(raw).trim().toLowerCase();
      if (TRUE.has(s)) return true;
      if (FALSE.has(s)) return false;
      return bad("is not a boolean (use true/false, 1/0, yes/no, on/off)");
    }
    if (typeof raw !== "string" && typeof raw !== "number") return bad("must be a string or a number");
    const s = String(raw).trim();
    switch (o.kind) {
      case "port": {
        const n = Number(s);
        return s !== "" && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : bad("is not a port: an integer from 0 to 65535");
      }
      case "duration": {
        const ms = parseDuration(s);
        return ms === undefined ? bad("is not a duration: write a number with a unit, e.g. 500ms, 30s, 10m, 1h30m (or 0)") : ms;
      }
      case "processes": {
        const n = parseWorkers(s);
        return n === undefined ? bad(`is not a number of processes: an integer from 1 to ${MAX_WORKERS}, or auto (one per core: ${availableParallelism()} here)`) : n;
      }
      case "size": {
        const n = parseSize(s);
        return n === undefined || n <= 0 ? bad("is not a size: a positive number of bytes, optionally with a unit, e.g. 4MiB, 512KiB, 1MB") : n;
      }
      case "level":
        return (LOG_LEVELS as readonly string[]).includes(s) ? s : bad(`is not a log level (one of ${LOG_LEVELS.join(", ")})`);
      case "choice":
        return o.choices?.includes(s) ? s : bad(`is not one of ${(o.choices ?? []).join(", ")}`);
      case "identity": {
        const who = parseIdentity(s);
        return "problem" in who ? bad(`is refused: ${who.problem}`) : who;
      }
      case "dir": {
        if (s === "") return bad("is empty");
        const path = isAbsolute(s) ? s : resolve(c?.base ?? cwd, s);
        const stat = statSync(path, { throwIfNoEntry: false });
        return stat && !stat.isDirectory() ? bad(`is a file, not a folder: point it at the config repository's folder (or at a new folder to create one)`) : path;
      }
      case "secretFile": {
        if (s === "") return bad("is empty");
        const path = resolve(c?.base ?? cwd, s);
        try {
          const secret = readFileSync(path, "utf8").replace(/\r?\n$/, "");
          return secret === "" ? bad(`names an empty file (${path})`) : secret;
        } catch (e) {
          return bad(`cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
      }
      case "secret":
        return s === "" ? bad("is empty") : String(raw);
      case "string":
        return s === "" ? bad("is empty") : s;
    }
  };

  // A secret and its *-file form are one setting: the most preferred source giving either wins.
  const secretFiles = new Set(OPTIONS.filter((o) => o.kind === "secretFile").map((o) => o.name));
  for (const o of OPTIONS) {
    if (secretFiles.has(o.name) || (names && !names.includes(o.name))) continue;
    if (o.kind === "secret") {
      const fileOpt = OPTIONS.find((x) => x.name === `${o.name}-file`) as OptionSpec;
      const direct = candidates(o);
      const viaFile = candidates(fileOpt);
      const order: Exclude<Source, "default">[] = ["flag", "env", "file"];
      const first = order.find((src) => direct.some((c) => c.source === src) || viaFile.some((c) => c.source === src));
      const d = direct.find((c) => c.source === first);
      const f = viaFile.find((c) => c.source === first);
      if (d && f) problems.push(`${d.where} and ${f.where}: set one of them, not both`);
      else if (d) values[o.name] = parse(o, d);
      else if (f) values[o.name] = parse(fileOpt, f);
      wheres[o.name] = (d ?? f)?.where ?? `default of --${o.name}`;
      sources[o.name] = first ?? "default";
      continue;
    }
    const c = candidates(o)[0];
    values[o.name] = parse(o, c);
    sources[o.name] = c?.source ?? "default";
    wheres[o.name] = c?.where ?? `default of --${o.name}`;
  }
  return { values, sources, wheres, problems, warnings, configFile };
}

/**
 * Resolves the settings from flags, environment, settings file and defaults. Throws a
 * SettingsError listing every problem; never reads process.argv or process.env itself.
 */
export function resolveSettings(input: SettingsInput): ResolvedSettings {
  const { values, sources, wheres, problems, warnings, configFile } = resolveValues(input);
  if (values.repo === undefined && sources.repo === "default") {
    problems.push(`the repository is required: set --repo, ${envName("repo")} or "repo:" in a settings file (--config)`);
  }
  if (values["sync-interval"] === 0) problems.push(`${wheres["sync-interval"]}: must be more than 0`);
  if (values["shutdown-timeout"] === 0) problems.push(`${wheres["shutdown-timeout"]}: must be more than 0`);
  if (typeof values.branch === "string" && !/^(?!-)(?!.*\.\.)[A-Za-z0-9._\/-]+$/.test(values.branch)) {
    problems.push(`${wheres.branch}: ${JSON.stringify(values.branch)} is not a branch name`);
  }
  if (typeof values.registry === "string") {
    const r = parseRegistry(values.registry);
    if (typeof r === "string") problems.push(`${wheres.registry}: ${JSON.stringify(values.registry)} ${r}`);
  }
  if (problems.length > 0) throw new SettingsError(problems);

  const out: Record<string, unknown> = { configFile };
  for (const o of OPTIONS) if (o.kind !== "secretFile") out[settingKey(o)] = values[o.name];
  const settings = Object.freeze(out) as Settings;
  return { settings, sources: Object.freeze(sources), warnings };
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
  shown.registry = redactUrl(s.registry);
  return shown;
}
