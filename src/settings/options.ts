import { DEFAULT_MAX_FILE_SIZE } from "../store/stateTree.ts";
import { LOG_LEVELS, PARSERS, type Kind, type ValueOf } from "./valueParsers.ts";

export interface OptionSpec {
  /** Flag name without dashes; also the key in the settings file. */
  readonly name: string;
  /** How its value is read: the parser of that name in valueParsers.ts. */
  readonly kind: Kind;
  /** Shown as `--name <value>`. */
  readonly valueName?: string;
  readonly description: string;
  /** Default as a person writes it (also what --help shows); undefined = unset. */
  readonly default?: string;
  /** No default, yet it must be set: what to call it in the problem ("the repository is required"). */
  readonly required?: string;
  /** The values a "choice" option takes. */
  readonly choices?: readonly string[];
  /** 0 is refused (for a duration, 0 would otherwise mean "never"). */
  readonly nonZero?: true;
  /** Set only in the settings file (a structured value, or secrets that must not be flags): no flag, no environment variable. */
  readonly fileOnly?: true;
  /**
   * A list of values of its kind: the flag may be repeated, the environment variable holds them
   * separated by spaces or commas, the settings file takes a YAML list (or one value). Each is
   * read by the kind's parser; a value listed twice is refused. At most MAX_LIST_ITEMS.
   */
  readonly list?: true;
}

/** More entries than this in a list-valued option is a mistake (each one is work on every event). */
export const MAX_LIST_ITEMS = 20;

/**
 * Every serve option, in --help order: the one table the flags, the environment variables, the
 * settings file keys, `Settings`, `DEFAULTS` and (in src/server.ts) `ServerOptions` all come
 * from, and the only place a default is written. The env name is CONFIGSERVER_ + NAME with _ for
 * -; the Settings key is the camelCase name, with `Ms` for durations (in milliseconds). A
 * `*-file` option is read into the setting it names.
 */
const TABLE = [
  { name: "repo", kind: "dir", required: "the repository", valueName: "dir", description: "the config repository (created when missing or empty; cloned from --remote when set)" },
  { name: "host", kind: "string", valueName: "address", description: "address to listen on", default: "127.0.0.1" },
  { name: "port", kind: "port", valueName: "port", description: "port to listen on (0 picks a free one)", default: "8899" },
  { name: "read-only", kind: "bool", description: "refuse User API writes (changes come by pull request)", default: "false" },
  { name: "author", kind: "identity", valueName: "identity", description: 'git identity of User API commits, "Name <email>": their committer, and their author when a request names none (header X-Configserver-Author)', default: "configserver <configserver@localhost>" },
  { name: "log-level", kind: "level", valueName: "level", description: `log level: ${LOG_LEVELS.join(", ")}`, default: "info" },
  { name: "body-limit", kind: "size", valueName: "size", description: "largest request body accepted (e.g. 4MiB, 512KiB, 1000000)", default: "4MiB" },
  { name: "max-file-size", kind: "size", valueName: "size", description: "largest state file the server reads or writes; a commit with a larger one is refused naming file, size and limit", default: `${DEFAULT_MAX_FILE_SIZE / 1024 / 1024}MiB` },
  { name: "max-config-size", kind: "size", valueName: "size", description: "largest JSON detail of a config (what v2 agents receive, aliases expanded); a larger config is refused by the API and as a validation problem of its file", default: "1MiB" },
  { name: "secrets", kind: "choice", choices: ["warn", "strict"], valueName: "mode", description: "credentials written in plain text in well-known pipeline fields (passwords, access keys, tokens): warn, or refuse the config (strict); write ${ENV_VAR} references instead", default: "warn" },
  { name: "request-timeout", kind: "duration", valueName: "duration", description: "answer RequestTimeout (HTTP 500) when a request takes longer; 0 = never", default: "30s" },
  { name: "agent-ttl", kind: "duration", valueName: "duration", description: "forget agents silent this long; 0 = never", default: "10m" },
  { name: "lock-wait", kind: "duration", valueName: "duration", description: "how long a write waits for a lock another git command holds in the repository (index.lock, a ref's lock) before it is refused ServerBusy", default: "5s" },
  { name: "shutdown-timeout", kind: "duration", nonZero: true, valueName: "duration", description: "on SIGTERM/SIGINT, how long in-flight requests may take before the process exits anyway", default: "10s" },
  { name: "user-token", kind: "secret", valueName: "token", description: "require `Authorization: Bearer <token>` on /User/*, /api/* and /status (prefer --user-token-file)" },
  { name: "user-token-file", kind: "secretFile", valueName: "file", description: "read the user token from this file" },
  { name: "tokens", kind: "tokens", fileOnly: true, description: "named user tokens, each with a role (viewer, editor, admin) and the identity its writes are committed as; settings file only (docs/security.md)" },
  { name: "allowed-hosts", kind: "hosts", valueName: "names", description: "Host names the server answers to besides loopback names, IP addresses, --host and this machine's name (comma-separated; *.example.com for a domain; * for any): others are refused (DNS rebinding; docs/security.md)" },
  { name: "agent-token", kind: "secret", valueName: "token", description: "require `Authorization: Bearer <token>` on /Agent/* (prefer --agent-token-file)" },
  { name: "agent-token-file", kind: "secretFile", valueName: "file", description: "read the agent token from this file" },
  { name: "agent-networks", kind: "networks", valueName: "cidrs", description: "source addresses allowed on the agent routes (/Agent/*, /v1/opamp): addresses, ranges or CIDRs, comma-separated (a list in the settings file); others are refused 403 before their body is read" },
  { name: "agent-body-limit", kind: "size", valueName: "size", description: "largest request body accepted on the agent routes (/Agent/*, /v1/opamp; also the most an OpAMP gzip body may inflate to)", default: "64KiB" },
  { name: "max-agents", kind: "count", valueName: "n", description: "most agents remembered at once: a new agent beyond it is refused ServerBusy (known agents keep working)", default: "1000000" },
  { name: "remote", kind: "string", valueName: "url", description: "git remote to clone, follow and push to" },
  { name: "branch", kind: "branch", valueName: "name", description: "branch of the remote to follow", default: "main" },
  { name: "sync-interval", kind: "duration", nonZero: true, valueName: "duration", description: "how often to fetch the remote (jitter is added)", default: "30s" },
  { name: "allow-history-rewrite", kind: "bool", description: "follow the remote branch even when its history was rewritten", default: "false" },
  { name: "webhook-secret", kind: "secret", valueName: "secret", description: "shared secret verifying push webhooks on POST /hooks/git (prefer --webhook-secret-file)" },
  { name: "webhook-secret-file", kind: "secretFile", valueName: "file", description: "read the webhook secret from this file" },
  { name: "notify-url", kind: "url", list: true, valueName: "url", description: "POST a JSON event (rollout started, wave advanced, halted, reverted, completed; commit refused by validation) to this http(s) URL, retried with backoff; repeat the flag for several (a list in the settings file; spaces or commas between them in the environment variable); docs/rollouts.md" },
  { name: "notify-secret", kind: "secret", valueName: "secret", description: "key signing each --notify-url event: X-Hub-Signature-256: sha256=HMAC-SHA256 of the body, as GitHub signs webhooks (prefer --notify-secret-file); unset: events are unsigned" },
  { name: "notify-secret-file", kind: "secretFile", valueName: "file", description: "read the notify secret from this file" },
  { name: "v2-config-details", kind: "choice", choices: ["heartbeat", "fetch"], valueName: "mode", description: "protocol v2 agents get config details in the heartbeat answer (heartbeat), or are told to fetch them (fetch)", default: "heartbeat" },
  { name: "v2-long-poll", kind: "duration", valueName: "duration", description: "the longest a v2 heartbeat with WaitForChange=true is held (kept under --request-timeout); 0 = answer at once", default: "20s" },
  { name: "registry", kind: "registry", valueName: "memory|url", description: "where agents are remembered: memory (this process) or redis://host:port/db, shared by every replica behind one load balancer (docs/deployment.md)", default: "memory" },
  { name: "workers", kind: "processes", valueName: "N|auto", description: "processes answering agents on the one port (auto = one per core); with more than 1, a primary process watches, syncs and writes the repository and the workers share its snapshot and fleet view (docs/deployment.md)", default: "1" },
] as const satisfies readonly OptionSpec[];

export const OPTIONS: readonly OptionSpec[] = TABLE;

type Row = (typeof TABLE)[number];
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
type KeyOf<R extends Row> = R["kind"] extends "duration" ? `${Camel<R["name"]>}Ms` : Camel<R["name"]>;
type Valued<R extends Row> = R extends { choices: readonly (infer C)[] } ? C : R extends { list: true } ? readonly ValueOf<R["kind"]>[] : ValueOf<R["kind"]>;
type Settled<R extends Row> = R extends { default: string } | { required: string } ? Valued<R> : Valued<R> | undefined;
type Settable = Exclude<Row, { kind: "secretFile" }>;

/**
 * `configserver serve` settings: flags > environment (CONFIGSERVER_*) > settings file (YAML) >
 * defaults. One key per row of the table (a `*-file` row fills its secret's key), plus the
 * settings file that was read, if any.
 */
export type Settings = { readonly [R in Settable as KeyOf<R>]: Settled<R> } & { readonly configFile: string | undefined };

/** The options with a default, keyed like Settings. */
export type Defaults = { readonly [R in Extract<Settable, { default: string }> as KeyOf<R>]: Valued<R> };

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
/** The key of a parsed flag (commander's `opts()`) for an option name. */
export const flagKey = camel;
/** The Settings key of an option (KeyOf above, at run time). */
export const settingKey = (o: OptionSpec): string => camel(o.name) + (o.kind === "duration" ? "Ms" : "");

export const envName = (name: string) => `CONFIGSERVER_${name.toUpperCase().replace(/-/g, "_")}`;

/**
 * The defaults as values (4MiB as 4194304, 30s as 30000…), read from the table by the same parsers
 * as a flag; what startServer uses for an option it is not given. A default its parser refuses is
 * a bug of this table, found when the module loads.
 */
export const DEFAULTS: Defaults = (() => {
  const out: Record<string, unknown> = {};
  for (const o of OPTIONS) {
    if (o.default === undefined) continue;
    const parsed = PARSERS[o.kind](o.default, { base: process.cwd(), choices: o.choices });
    if ("problem" in parsed) throw new Error(`the default of --${o.name}, ${JSON.stringify(o.default)}, ${parsed.problem}`);
    out[settingKey(o)] = parsed.value;
  }
  return Object.freeze(out) as Defaults;
})();
