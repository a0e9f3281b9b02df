// How settings resolve (flags > environment > settings file > defaults) and how values parse, one
// module at a time; the real process reading them is tested in test/settings.test.ts.
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import test from "ava";
import { stringify } from "yaml";
import { envName, OPTIONS, settingKey, type Settings } from "../../src/settings/options.ts";
import { describeSettings, resolveSettings, SettingsError } from "../../src/settings/resolveSettings.ts";
import { parseDuration, parseSize, parseWorkers } from "../../src/settings/valueParsers.ts";
import { tempDir } from "../helpers/git.ts";

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** For each option: a raw value per source (flag, env, file) and what each must resolve to. */
interface Case {
  readonly key: keyof Settings;
  readonly flag: unknown;
  readonly env: string;
  readonly file: unknown;
  readonly expect: readonly [unknown, unknown, unknown];
}
const three = (key: keyof Settings, raw: [string, string, string], parsed: [unknown, unknown, unknown]): Case => ({ key, flag: raw[0], env: raw[1], file: raw[2], expect: parsed });
const CASES: Record<string, Case> = {
  repo: three("repo", ["/r/flag", "/r/env", "/r/file"], ["/r/flag", "/r/env", "/r/file"]),
  host: three("host", ["h-flag", "h-env", "h-file"], ["h-flag", "h-env", "h-file"]),
  port: three("port", ["1001", "1002", "1003"], [1001, 1002, 1003]),
  "read-only": { key: "readOnly", flag: false, env: "0", file: true, expect: [false, false, true] },
  author: three("author", ["Flag <f@example.com>", "Env <e@example.com>", "File <f@example.com>"], [{ name: "Flag", email: "f@example.com" }, { name: "Env", email: "e@example.com" }, { name: "File", email: "f@example.com" }]),
  "log-level": three("logLevel", ["debug", "warn", "error"], ["debug", "warn", "error"]),
  "body-limit": three("bodyLimit", ["1KiB", "2KiB", "3000"], [1024, 2048, 3000]),
  "max-file-size": three("maxFileSize", ["1MiB", "2MiB", "5000"], [1024 * 1024, 2 * 1024 * 1024, 5000]),
  "request-timeout": three("requestTimeoutMs", ["1s", "2s", "500ms"], [1000, 2000, 500]),
  "agent-ttl": three("agentTtlMs", ["1m", "2m", "1h30m"], [60_000, 120_000, 5_400_000]),
  "lock-wait": three("lockWaitMs", ["200ms", "2s", "1m"], [200, 2000, 60_000]),
  "max-config-size": three("maxConfigSize", ["64KiB", "2MiB", "1000000"], [65_536, 2_097_152, 1_000_000]),
  secrets: three("secrets", ["strict", "warn", "strict"], ["strict", "warn", "strict"]),
  "shutdown-timeout": three("shutdownTimeoutMs", ["1s", "2s", "3s"], [1000, 2000, 3000]),
  "user-token": three("userToken", ["u-flag", "u-env", "u-file"], ["u-flag", "u-env", "u-file"]),
  "agent-token": three("agentToken", ["a-flag", "a-env", "a-file"], ["a-flag", "a-env", "a-file"]),
  remote: three("remote", ["https://x/flag.git", "https://x/env.git", "https://x/file.git"], ["https://x/flag.git", "https://x/env.git", "https://x/file.git"]),
  branch: three("branch", ["b-flag", "b-env", "b-file"], ["b-flag", "b-env", "b-file"]),
  "sync-interval": three("syncIntervalMs", ["10s", "20s", "30m"], [10_000, 20_000, 1_800_000]),
  "allow-history-rewrite": { key: "allowHistoryRewrite", flag: false, env: "yes", file: false, expect: [false, true, false] },
  "webhook-secret": three("webhookSecret", ["w-flag", "w-env", "w-file"], ["w-flag", "w-env", "w-file"]),
  "v2-config-details": three("v2ConfigDetails", ["fetch", "heartbeat", "fetch"], ["fetch", "heartbeat", "fetch"]),
  "v2-long-poll": three("v2LongPollMs", ["1s", "0", "45s"], [1000, 0, 45_000]),
  registry: three("registry", ["redis://r-flag:6379/0", "memory", "redis://r-file/2"], ["redis://r-flag:6379/0", "memory", "redis://r-file/2"]),
  workers: three("workers", ["2", "auto", "3"], [2, availableParallelism(), 3]),
  "notify-url": { key: "notifyUrl", flag: ["https://f.example/a", "http://127.0.0.1:9/b"], env: "https://e.example/a, https://e.example/b https://e.example/c", file: ["https://file.example/x"], expect: [["https://f.example/a", "http://127.0.0.1:9/b"], ["https://e.example/a", "https://e.example/b", "https://e.example/c"], ["https://file.example/x"]] },
  "notify-secret": three("notifySecret", ["n-flag", "n-env", "n-file"], ["n-flag", "n-env", "n-file"]),
  "agent-body-limit": three("agentBodyLimit", ["1KiB", "2KiB", "3000"], [1024, 2048, 3000]),
  "max-agents": three("maxAgents", ["5", "1000", "7"], [5, 1000, 7]),
  "agent-networks": { key: "agentNetworks", flag: "10.0.0.0/8", env: "10.1.0.0/16, 127.0.0.1", file: ["192.168.0.0/16", "fd00::/8"], expect: [
    [{ text: "10.0.0.0/8", family: 4, lo: 0x0a000000, hi: 0x0affffff }],
    [{ text: "10.1.0.0/16", family: 4, lo: 0x0a010000, hi: 0x0a01ffff }, { text: "127.0.0.1", family: 4, lo: 0x7f000001, hi: 0x7f000001 }],
    [{ text: "192.168.0.0/16", family: 4, lo: 0xc0a80000, hi: 0xc0a8ffff }, { text: "fd00::/8", family: 6, words: [0xfd00, 0, 0, 0, 0, 0, 0, 0], bits: 8 }],
  ] },
  "allowed-hosts": three("allowedHosts", ["a.example.com", "B.example.com, *.lb.example.com", "*"], [["a.example.com"], ["b.example.com", "*.lb.example.com"], ["*"]]),
};

function settingsFile(values: Record<string, unknown>): string {
  const path = join(tempDir("cs-settings-"), "configserver.yaml");
  writeFileSync(path, stringify(values));
  return path;
}

test("every option can be set by flag, environment and file, with flag > env > file > default", (t) => {
  // A settings-file-only option (tokens) has its own tests (tokenRoles.test.ts).
  const covered = OPTIONS.filter((o) => !o.name.endsWith("-file") && !o.fileOnly).map((o) => o.name);
  t.deepEqual(Object.keys(CASES).sort(), covered.sort(), "a case for every option");
  for (const [name, c] of Object.entries(CASES)) {
    const base = name === "repo" ? {} : { repo: "/base" };
    const config = settingsFile({ ...base, [name]: c.file });
    const flags = { config, [camel(name)]: c.flag };
    const env = { [envName(name)]: c.env };
    const get = (r: ReturnType<typeof resolveSettings>) => r.settings[c.key];
    t.deepEqual(get(resolveSettings({ flags: { config }, env: {} })), c.expect[2], `${name} from the file`);
    t.deepEqual(get(resolveSettings({ flags: { config }, env })), c.expect[1], `${name}: env beats the file`);
    t.deepEqual(get(resolveSettings({ flags, env })), c.expect[0], `${name}: flag beats env`);
    t.is(resolveSettings({ flags, env }).sources[name], "flag");
    const dflt = OPTIONS.find((o) => o.name === name)?.default;
    if (name !== "repo") {
      const fromDefault = resolveSettings({ flags: { repo: "/r" }, env: {} });
      t.is(fromDefault.sources[name], "default", name);
      if (dflt === undefined) t.is(get(fromDefault), undefined, name);
    }
  }
});

test("defaults are the documented ones, and the result is frozen", (t) => {
  const { settings } = resolveSettings({ flags: { repo: "/r" }, env: {} });
  t.like(settings, {
    host: "127.0.0.1", port: 8899, readOnly: false, logLevel: "info", bodyLimit: 4 * 1024 * 1024, maxFileSize: 4 * 1024 * 1024, requestTimeoutMs: 30_000,
    agentTtlMs: 600_000, lockWaitMs: 5000, shutdownTimeoutMs: 10_000, branch: "main", syncIntervalMs: 30_000, allowHistoryRewrite: false,
    userToken: undefined, agentToken: undefined, remote: undefined, webhookSecret: undefined,
    v2ConfigDetails: "heartbeat", v2LongPollMs: 20_000,
  });
  t.true(Object.isFrozen(settings));
  t.throws(() => {
    (settings as { port: number }).port = 1;
  });
});

test("Settings has one key per row of the option table (camelCase, Ms for durations), and the start-up log hides every secret", (t) => {
  const { settings } = resolveSettings({ flags: { repo: "/r", userToken: "u", agentToken: "a", webhookSecret: "w", notifySecret: "n" }, env: {} });
  const rows = OPTIONS.filter((o) => o.kind !== "secretFile");
  t.deepEqual(Object.keys(settings).sort(), [...rows.map(settingKey), "configFile"].sort());
  t.deepEqual(rows.filter((o) => o.kind === "duration").map(settingKey), ["requestTimeoutMs", "agentTtlMs", "lockWaitMs", "shutdownTimeoutMs", "syncIntervalMs", "v2LongPollMs"]);
  const shown = describeSettings(settings);
  for (const o of OPTIONS.filter((x) => x.kind === "secret")) t.is(shown[settingKey(o)], "(set)", o.name);
  t.false(JSON.stringify(shown).includes('"u"') || JSON.stringify(shown).includes('"w"'));
});

test("secrets come from files; a file in the settings file is relative to it; token and token file together is an error", (t) => {
  const dir = tempDir("cs-secrets-");
  writeFileSync(join(dir, "user.token"), "from-file\n");
  writeFileSync(join(dir, "agent.token"), "agent-from-file");
  const config = join(dir, "cs.yaml");
  writeFileSync(config, stringify({ repo: "state", "user-token-file": "user.token", "webhook-secret": "in-file" }));
  const r = resolveSettings({ flags: { config, agentTokenFile: join(dir, "agent.token") }, env: {}, cwd: "/" });
  t.is(r.settings.userToken, "from-file");
  t.is(r.settings.agentToken, "agent-from-file");
  t.is(r.settings.repo, join(dir, "state"));
  // A higher source giving the direct form wins over a lower source's file form.
  t.is(resolveSettings({ flags: { config }, env: { CONFIGSERVER_USER_TOKEN: "env-token" } }).settings.userToken, "env-token");
  const both = t.throws(() => resolveSettings({ flags: { repo: "/r", userToken: "a", userTokenFile: join(dir, "user.token") }, env: {} }), { instanceOf: SettingsError });
  t.regex(both?.message ?? "", /--user-token and --user-token-file: set one of them, not both/);
});

test("every invalid value is reported at once", (t) => {
  const config = settingsFile({ "body-limit": "lots", colour: "blue", "read-only": "maybe" });
  const e = t.throws(() => resolveSettings({
    flags: { config, port: "70000", agentTtl: "5", agentTokenFile: "/nonexistent/token", author: "ops@example.com" },
    env: { CONFIGSERVER_LOG_LEVEL: "loud", CONFIGSERVER_SYNC_INTERVAL: "0", CONFIGSERVER_REQUEST_TIMEOUT: "soon", CONFIGSERVER_V2_CONFIG_DETAILS: "push" },
  }), { instanceOf: SettingsError }) as SettingsError;
  const expected = [/^--author: "ops@example.com" is refused: it is not "Name <email>"/, /^--port: "70000" is not a port/, /^--agent-ttl: "5" is not a duration/, /^--agent-token-file: .* cannot be read \(ENOENT\)/,
    /^CONFIGSERVER_LOG_LEVEL: "loud" is not a log level/, /^CONFIGSERVER_SYNC_INTERVAL: must be more than 0/, /^CONFIGSERVER_REQUEST_TIMEOUT: "soon" is not a duration/,
    /body-limit in .*: "lots" is not a size/, /unknown option "colour"/, /read-only in .*: "maybe" is not a boolean/, /the repository is required/,
    /^CONFIGSERVER_V2_CONFIG_DETAILS: "push" is not one of heartbeat, fetch/];
  for (const re of expected) t.true(e.problems.some((p) => re.test(p)), `${re}\n${e.message}`);
  t.is(e.problems.length, expected.length, e.message);
});

test("--registry is memory or a redis:// URL; a bad one is a problem naming where it came from", (t) => {
  t.is(resolveSettings({ flags: { repo: "/r" }, env: {} }).settings.registry, "memory");
  for (const [raw, why] of [["redis", /neither memory nor a redis:\/\/ URL/], ["http://h:1/0", /scheme http: instead of redis:\/\//], ["redis://h:1/zero", /database "zero"/], ["redis://h:1/0?x=1", /query/]] as const) {
    const e = t.throws(() => resolveSettings({ flags: { repo: "/r" }, env: { CONFIGSERVER_REGISTRY: raw } }), { instanceOf: SettingsError }) as SettingsError;
    t.is(e.problems.length, 1);
    t.regex(e.problems[0] as string, new RegExp(`^CONFIGSERVER_REGISTRY: "${raw.replace(/[?/.]/g, "\\$&")}" `));
    t.regex(e.problems[0] as string, why);
  }
});

test("--workers is a number of processes or auto (one per core); 0, a fraction or a word is a problem", (t) => {
  t.is(resolveSettings({ flags: { repo: "/r" }, env: {} }).settings.workers, 1, "one process unless asked");
  t.is(parseWorkers("auto", 8), 8);
  t.is(parseWorkers(" AUTO ", 1), 1);
  t.is(parseWorkers("4"), 4);
  for (const bad of ["0", "-1", "1.5", "many", "", "257"]) t.is(parseWorkers(bad), undefined, bad);
  const e = t.throws(() => resolveSettings({ flags: { repo: "/r", workers: "0" }, env: {} }), { instanceOf: SettingsError }) as SettingsError;
  t.deepEqual(e.problems, [`--workers: "0" is not a number of processes: an integer from 1 to 256, or auto (one per core: ${availableParallelism()} here)`]);
});

test("--allowed-hosts takes names, *.domain and *, lowercased; a port, a URL or an empty list is a problem", (t) => {
  t.deepEqual(resolveSettings({ flags: { repo: "/r", allowedHosts: " Configs.Example.com ,*.lb.example.com" }, env: {} }).settings.allowedHosts, ["configs.example.com", "*.lb.example.com"]);
  t.is(resolveSettings({ flags: { repo: "/r" }, env: {} }).settings.allowedHosts, undefined);
  for (const bad of ["configs.example.com:443", "https://configs.example.com", "a b", ",", "ex*ample.com"]) {
    const e = t.throws(() => resolveSettings({ flags: { repo: "/r", allowedHosts: bad }, env: {} }), { instanceOf: SettingsError }) as SettingsError;
    t.regex(e.problems[0] as string, /^--allowed-hosts: /, bad);
  }
});

test("an unknown CONFIGSERVER_ variable (a typo) is a warning, not silence", (t) => {
  const r = resolveSettings({ flags: { repo: "/r" }, env: { CONFIGSERVER_USER_TOKNE: "x", CONFIGSERVER_PORT: "1" } });
  t.deepEqual(r.warnings, ["environment variable CONFIGSERVER_USER_TOKNE is not a configserver setting; ignored"]);
});

test("durations and sizes", (t) => {
  t.is(parseDuration("500ms"), 500);
  t.is(parseDuration("30s"), 30_000);
  t.is(parseDuration("10m"), 600_000);
  t.is(parseDuration("1h30m"), 5_400_000);
  t.is(parseDuration("0"), 0);
  for (const bad of ["10", "s", "-1s", "1 s", "1y", ""]) t.is(parseDuration(bad), undefined, bad);
  t.is(parseSize("4MiB"), 4 * 1024 * 1024);
  t.is(parseSize("1MB"), 1_000_000);
  t.is(parseSize("512KiB"), 512 * 1024);
  t.is(parseSize("1000"), 1000);
  for (const bad of ["lots", "-1", "4 parsecs"]) t.is(parseSize(bad), undefined, bad);
});

