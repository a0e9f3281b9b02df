import { readFileSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { parseRegistry } from "../agents/registryUrl.ts";
import { parseIpSelector, type IpSelector } from "../domain/addressMatch.ts";
import { parseIdentity, type Person } from "../domain/identity.ts";
import type { LogLevel } from "../logger.ts";
import { parseTokens } from "./tokensSetting.ts";

/** A value read, or why it is refused (a sentence that follows the value: `"x" <problem>`). */
export type Parsed<T> = { readonly value: T } | { readonly problem: string };

export interface ParseContext {
  /** Where a relative path is resolved: the settings file's folder, or the working directory. */
  readonly base: string;
  /** The values a "choice" option takes. */
  readonly choices?: readonly string[] | undefined;
}

/** Reads one option's text (as written: not trimmed); never throws. */
export type ValueParser<T> = (text: string, context: ParseContext) => Parsed<T>;

export const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** A longer URL is not one a person configured. */
export const MAX_URL_LENGTH = 2048;

/** More processes than this is a typo (or a machine this server was not measured on). */
export const MAX_WORKERS = 256;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3 };
const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off", ""]);
const BRANCH = /^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+$/;
const HOST_PATTERN = /^(\*|(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?|\[?[0-9a-f:.]+\]?)$/;

/** `500ms`, `30s`, `10m`, `1h30m`, `0`. A bare number other than 0 is refused: the unit must be said. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === "0") return 0;
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(s)) return undefined;
  let ms = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) ms += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
  return Math.round(ms);
}

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

/** `true/false`, `1/0`, `yes/no`, `on/off` (any case); empty is false. */
export function parseBool(text: string): boolean | undefined {
  const s = text.trim().toLowerCase();
  return TRUE.has(s) ? true : FALSE.has(s) ? false : undefined;
}

const ok = <T>(value: T): Parsed<T> => ({ value });
const no = (problem: string): Parsed<never> => ({ problem });
/** The text trimmed, refused when empty. */
const nonEmpty = (text: string): Parsed<string> => (text.trim() === "" ? no("is empty") : ok(text.trim()));
const then = <A, B>(p: Parsed<A>, next: (a: A) => Parsed<B>): Parsed<B> => ("problem" in p ? p : next(p.value));
const orProblem = <T>(value: T | undefined, problem: string): Parsed<T> => (value === undefined ? no(problem) : ok(value));

/**
 * One parser per kind of option; a row of the option table (options.ts) names its kind, and the
 * type of its setting is what the kind's parser returns.
 */
export const PARSERS = {
  string: nonEmpty,
  /** Kept as written (not trimmed): a secret may end in a space. */
  secret: (text: string) => (text.trim() === "" ? no("is empty") : ok(text)),
  port: (text: string) => {
    const s = text.trim();
    const n = Number(s);
    return s !== "" && Number.isInteger(n) && n >= 0 && n <= 65535 ? ok(n) : no("is not a port: an integer from 0 to 65535");
  },
  bool: (text: string) => orProblem(parseBool(text), "is not a boolean (use true/false, 1/0, yes/no, on/off)"),
  duration: (text: string) => orProblem(parseDuration(text), "is not a duration: write a number with a unit, e.g. 500ms, 30s, 10m, 1h30m (or 0)"),
  size: (text: string) => {
    const n = parseSize(text);
    return n === undefined || n <= 0 ? no("is not a size: a positive number of bytes, optionally with a unit, e.g. 4MiB, 512KiB, 1MB") : ok(n);
  },
  processes: (text: string) => orProblem(parseWorkers(text), `is not a number of processes: an integer from 1 to ${MAX_WORKERS}, or auto (one per core: ${availableParallelism()} here)`),
  level: (text: string): Parsed<LogLevel> => {
    const s = text.trim();
    return (LOG_LEVELS as readonly string[]).includes(s) ? ok(s as LogLevel) : no(`is not a log level (one of ${LOG_LEVELS.join(", ")})`);
  },
  choice: (text: string, { choices = [] }: ParseContext) => {
    const s = text.trim();
    return choices.includes(s) ? ok(s) : no(`is not one of ${choices.join(", ")}`);
  },
  identity: (text: string): Parsed<Person> => {
    const who = parseIdentity(text.trim());
    return "problem" in who ? no(`is refused: ${who.problem}`) : ok(who);
  },
  branch: (text: string) => then(nonEmpty(text), (s) => (BRANCH.test(s) ? ok(s) : no("is not a branch name"))),
  /** `memory` or a redis:// URL; the setting keeps the text (parseRegistry reads it where it is used). */
  registry: (text: string) => then(nonEmpty(text), (s) => {
    const r = parseRegistry(s);
    return typeof r === "string" ? no(r) : ok(s);
  }),
  /** A folder: missing is fine (the store creates it), a file is not. */
  dir: (text: string, { base }: ParseContext) => then(nonEmpty(text), (s) => {
    const path = isAbsolute(s) ? s : resolve(base, s);
    const stat = statSync(path, { throwIfNoEntry: false });
    return stat && !stat.isDirectory() ? no("is a file, not a folder: point it at the config repository's folder (or at a new folder to create one)") : ok(path);
  }),
  /** Host names, comma-separated: `name`, `*.domain` (its names) or `*` (any); lowercased, no port. */
  hosts: (text: string) => {
    const names = text.split(",").map((h) => h.trim().toLowerCase()).filter((h) => h !== "");
    if (names.length === 0) return no("is empty: give host names separated by commas (or * for any)");
    const bad = names.find((h) => !HOST_PATTERN.test(h));
    return bad === undefined ? ok(Object.freeze(names) as readonly string[]) : no(`has ${JSON.stringify(bad)}, which is not a host name (a name such as configs.example.com, *.example.com for every name of a domain, or *; without a port)`);
  },
  /** An absolute http(s) URL, as written (trimmed). */
  url: (text: string) => then(nonEmpty(text), (s) => {
    if (s.length > MAX_URL_LENGTH) return no(`is longer than ${MAX_URL_LENGTH} characters`);
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      return no("is not a URL: write it in full, e.g. https://hooks.example.com/configserver");
    }
    return u.protocol === "http:" || u.protocol === "https:" ? ok(s) : no(`is not an http or https URL (${u.protocol.replace(/:$/, "")})`);
  }),
  /** A positive whole number. */
  count: (text: string) => {
    const s = text.trim();
    return /^[0-9]{1,15}$/.test(s) && Number(s) > 0 ? ok(Number(s)) : no("is not a positive whole number");
  },
  /** Networks, comma-separated (a list in the settings file): addresses, ranges or CIDRs (10.0.0.0/8, fd00::/8). */
  networks: (text: string): Parsed<readonly IpSelector[]> => {
    const parts = text.split(",").map((h) => h.trim()).filter((h) => h !== "");
    if (parts.length === 0) return no("is empty: give networks separated by commas, e.g. 10.0.0.0/8,127.0.0.1");
    const out: IpSelector[] = [];
    for (const part of parts) {
      const sel = parseIpSelector(part);
      if ("problem" in sel) return no(`has ${sel.problem}`);
      out.push(sel);
    }
    return ok(Object.freeze(out));
  },
  /** Named user tokens: a list only a settings file can give (src/settings/tokensSetting.ts); `text` is its JSON. */
  tokens: (text: string, { base }: ParseContext) => parseTokens(text, base),
  /** A file holding a secret: the setting is the file's text, without its last line end. */
  secretFile: (text: string, { base }: ParseContext) => then(nonEmpty(text), (s) => {
    const path = resolve(base, s);
    try {
      const secret = readFileSync(path, "utf8").replace(/\r?\n$/, "");
      return secret === "" ? no(`names an empty file (${path})`) : ok(secret);
    } catch (e) {
      return no(`cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }),
} as const satisfies Record<string, ValueParser<unknown>>;

export type Kind = keyof typeof PARSERS;
/** The type a kind's parser reads. */
export type ValueOf<K extends Kind> = ReturnType<(typeof PARSERS)[K]> extends Parsed<infer T> ? T : never;
