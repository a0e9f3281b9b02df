// Unit tests (internals): the option table, its defaults and the value parsers, without a process.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { DEFAULTS, OPTIONS, settingKey } from "../../src/settings/options.ts";
import { resolveSettings, SettingsError, unknownEnvWarnings } from "../../src/settings/resolveSettings.ts";
import { MAX_WORKERS, parseBool, PARSERS, type ParseContext } from "../../src/settings/valueParsers.ts";

const here: ParseContext = { base: process.cwd() };
const value = (p: { value: unknown } | { problem: string }) => ("problem" in p ? { problem: p.problem } : p.value);

test("every option's kind has a parser, and every default reads as its value in DEFAULTS", (t) => {
  for (const o of OPTIONS) {
    t.true(Object.hasOwn(PARSERS, o.kind), `${o.name}: kind ${o.kind}`);
    if (o.default === undefined) {
      t.false(Object.hasOwn(DEFAULTS, settingKey(o)), `${o.name} has no default`);
      continue;
    }
    t.deepEqual((DEFAULTS as Record<string, unknown>)[settingKey(o)], value(PARSERS[o.kind](o.default, { ...here, choices: o.choices })), o.name);
  }
  t.like(DEFAULTS, { port: 8899, bodyLimit: 4 * 1024 * 1024, lockWaitMs: 5000, shutdownTimeoutMs: 10_000, syncIntervalMs: 30_000, v2LongPollMs: 20_000, branch: "main", registry: "memory", workers: 1 });
  t.deepEqual(DEFAULTS.author, { name: "configserver", email: "configserver@localhost" });
  t.true(Object.isFrozen(DEFAULTS));
});

test("DEFAULTS and the settings resolved with nothing set are the same values", (t) => {
  const { settings } = resolveSettings({ flags: { repo: "/r" }, env: {} });
  for (const [key, v] of Object.entries(DEFAULTS)) t.deepEqual((settings as Record<string, unknown>)[key], v, key);
  t.true(Object.isFrozen(settings));
});

test("each parser accepts what it documents and refuses the rest with a reason", (t) => {
  const cases: [keyof typeof PARSERS, string, unknown][] = [
    ["port", "0", 0], ["port", " 65535 ", 65535], ["port", "65536", undefined], ["port", "1.5", undefined], ["port", "", undefined],
    ["bool", "YES", true], ["bool", "off", false], ["bool", "", false], ["bool", "maybe", undefined],
    ["duration", "1h30m", 5_400_000], ["duration", "0", 0], ["duration", "250ms", 250], ["duration", "30", undefined], ["duration", "1w", undefined],
    ["size", "4MiB", 4 * 1024 * 1024], ["size", "1MB", 1_000_000], ["size", "512", 512], ["size", "0", undefined], ["size", "lots", undefined],
    ["processes", "3", 3], ["processes", "0", undefined], ["processes", String(MAX_WORKERS + 1), undefined],
    ["level", "debug", "debug"], ["level", "loud", undefined],
    ["string", " x ", "x"], ["string", "  ", undefined],
    ["secret", " s ", " s "], ["secret", " ", undefined],
    ["branch", "release/1.0", "release/1.0"], ["branch", "-x", undefined], ["branch", "a..b", undefined], ["branch", "", undefined],
    ["registry", "memory", "memory"], ["registry", "redis://h:6379/0", "redis://h:6379/0"], ["registry", "http://h", undefined],
    ["identity", "A <a@example.com>", { name: "A", email: "a@example.com" }], ["identity", "nobody", undefined],
  ];
  for (const [kind, text, expected] of cases) {
    const got = PARSERS[kind](text, here);
    if (expected === undefined) t.true("problem" in got && got.problem.length > 0, `${kind} ${JSON.stringify(text)} refused`);
    else t.deepEqual(value(got), expected, `${kind} ${JSON.stringify(text)}`);
  }
  t.deepEqual(value(PARSERS.choice("fetch", { ...here, choices: ["heartbeat", "fetch"] })), "fetch");
  t.regex((PARSERS.choice("poll", { ...here, choices: ["heartbeat", "fetch"] }) as { problem: string }).problem, /is not one of heartbeat, fetch/);
  t.is(parseBool("TRUE"), true);
});

test("folders and secret files are read relative to the context's base", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cs-parsers-"));
  writeFileSync(join(dir, "token"), "s3cret\n");
  writeFileSync(join(dir, "empty"), "");
  const at: ParseContext = { base: dir };
  t.is(value(PARSERS.secretFile("token", at)), "s3cret");
  t.regex((PARSERS.secretFile("empty", at) as { problem: string }).problem, /empty file/);
  t.regex((PARSERS.secretFile("missing", at) as { problem: string }).problem, /cannot be read \(ENOENT\)/);
  t.is(value(PARSERS.dir("repo", at)), join(dir, "repo"));
  t.regex((PARSERS.dir("token", at) as { problem: string }).problem, /is a file, not a folder/);
});

test("a nonZero option refuses 0, and every problem is reported together", (t) => {
  const e = t.throws(() => resolveSettings({ flags: {}, env: { CONFIGSERVER_SYNC_INTERVAL: "0", CONFIGSERVER_SHUTDOWN_TIMEOUT: "0", CONFIGSERVER_PORT: "x" } }), { instanceOf: SettingsError }) as SettingsError;
  t.deepEqual([...e.problems].sort(), [
    'CONFIGSERVER_PORT: "x" is not a port: an integer from 0 to 65535',
    "CONFIGSERVER_SHUTDOWN_TIMEOUT: must be more than 0",
    "CONFIGSERVER_SYNC_INTERVAL: must be more than 0",
    'the repository is required: set --repo, CONFIGSERVER_REPO or "repo:" in a settings file (--config)',
  ]);
});

test("unknown CONFIGSERVER_ names are warned about; settings and the settings-file switch are not", (t) => {
  t.deepEqual(unknownEnvWarnings({ CONFIGSERVER_PORT: "1", CONFIGSERVER_CONFIG: "x", CONFIGSERVER_PROT: "1", OTHER: "1" }), ["environment variable CONFIGSERVER_PROT is not a configserver setting; ignored"]);
});

test("startServer's options: what is not given (or given as undefined) takes the table's default, once", async (t) => {
  const { withDefaults } = await import("../../src/settings/withDefaults.ts");
  const o = withDefaults({ port: 0, agentTtlMs: undefined, requestTimeoutMs: 0 });
  t.is(o.port, 0, "0 given is kept");
  t.is(o.requestTimeoutMs, 0);
  t.is(o.agentTtlMs, DEFAULTS.agentTtlMs, "undefined is not given");
  t.is(o.bodyLimit, DEFAULTS.bodyLimit);
  t.deepEqual(o.author, DEFAULTS.author);
  t.true(Object.isFrozen(o));
});
