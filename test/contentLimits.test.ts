import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import test, { type ExecutionContext } from "ava";
import pino from "pino";
import type { Problem } from "../src/domain/types.ts";
import { startServer } from "../src/server.ts";
import { runCli } from "./helpers/cli.ts";
import { send } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { commitFiles, configYaml, repoWith } from "./helpers/repo.ts";
import { waitFor, withServer, type TestServer } from "./helpers/server.ts";

// Issue 23, items 1-3 and secrets in pipelines. Linear time is shown without timing: each heavy
// input is large enough that the quadratic code it replaces would run for minutes to hours,
// far past these tests' timeouts, while /healthz requests sent alongside are answered. Serial:
// the servers run in this process, and one test's parse would hold up another's requests.

const cfg = (name: string, content: string) => ({ config_detail: { config_name: name, agent_type: "ilogtail", content } });
/** HEAD's commit; "" in a repository with no commit yet. */
const head = (repo: string) => git(repo, "for-each-ref", "--format=%(objectname)", "refs/heads/").trim();
const blockConfig = (name: string, content: string) =>
  `config_name: ${name}\nagent_type: ilogtail\ndescription: ""\ncontent: |\n${content.replace(/\n$/, "").split("\n").map((l) => `  ${l}`).join("\n")}\n`;

/** `heavy` with /healthz asked while it runs: both must be answered. */
async function withHealthz<T>(t: ExecutionContext, url: string, heavy: Promise<T>): Promise<T> {
  const probes = Array.from({ length: 5 }, () => send(url, "GET", "/healthz", ""));
  const [result, ...health] = await Promise.all([heavy, ...probes]);
  for (const h of health) t.is(h.status, 200, "/healthz answered");
  return result;
}

function writeRepo(files: Record<string, string>): string {
  const dir = tempDir("cs-limits-");
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

async function restart(t: ExecutionContext, repo: string, options: Record<string, unknown> = {}) {
  const s = await startServer({ port: 0, logger: pino({ level: "silent" }), repo, ...options });
  t.teardown(() => s.close());
  return s;
}

test.serial("item 1: a first line of 'a' and 4 MiB of spaces is answered through the API, and reloads and restarts with it stay quick", async (t) => {
  t.timeout(180_000);
  const spaces = "a" + " ".repeat(4 * 1024 * 1024);
  const s = await withServer(t, { bodyLimit: 8 * 1024 * 1024 });
  const created = await withHealthz(t, s.url, s.api.createConfig(cfg("spaces", spaces)));
  // No colon: plain text, which alpha agents take as it is.
  t.is(created.body.code, "Accept", created.body.message);
  const looksLike = await withHealthz(t, s.url, s.api.createConfig(cfg("spaces2", `${spaces}:\n b: [`)));
  t.is(looksLike.status, 400, "a key line of spaces is a pipeline, checked and refused as YAML");
  t.regex(looksLike.body.message, /not valid YAML/);

  // The same content committed by a person: the reload serves it, and so does a restart.
  const commit = commitFiles(s.repo, { "configs/pushed.yaml": configYaml("pushed", spaces) });
  await withHealthz(t, s.url, waitFor(async () => (await s.store.refresh()).commit === commit));
  t.is(s.store.state.configs.get("pushed")?.content, spaces);
  await s.close();
  const again = await restart(t, s.repo);
  t.is(again.store.state.commit, commit);
  t.deepEqual([...again.store.state.configs.keys()].sort(), ["pushed", "spaces"]);
});

const manyKeys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}: v`).join("\n") + "\n";

test.serial("item 2: a content mapping of 300,000 keys is validated, its one duplicate key found at its line and column", async (t) => {
  t.timeout(180_000);
  const dir = writeRepo({ "configs/big.yaml": blockConfig("big", `${manyKeys(300_000)}k7: again\n`) });
  const r = await runCli(["validate", "--format", "json", dir]);
  t.is(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as { problems: Problem[] };
  t.deepEqual(report.problems.map((p) => `${p.file}:${p.line}:${p.column}`), ["configs/big.yaml:300005:3"]);
  t.regex(report.problems[0]?.message ?? "", /not valid YAML: Map keys must be unique/);
});

test.serial("item 2: a committed config of 300,000 keys is served at start and after a reload, /healthz answered", async (t) => {
  t.timeout(240_000);
  const repo = repoWith("cs-limits-keys-", { "configs/big.yaml": blockConfig("big", manyKeys(300_000)) });
  // 300,000 keys are a 3.6 MB detail: over the default --max-config-size, which is not what this tests.
  const s: TestServer = await withServer(t, { repo, maxConfigSize: 16 * 1024 * 1024 });
  t.true(s.store.state.configs.has("big"), "served at start");
  const detail = s.store.state.configs.get("big")?.detailJson ?? "";
  t.true(detail.startsWith('{"k0":"v","k1":"v"'), "converted for v2 agents");
  const commit = commitFiles(repo, { "configs/small.yaml": blockConfig("small", "a: 1\n") });
  await withHealthz(t, s.url, waitFor(async () => (await s.store.refresh()).commit === commit));
  t.true(s.store.state.configs.has("big") && s.store.state.configs.has("small"), "served after a reload");
  // A second such file, with a duplicate key at its end: the reload parses all of it, and refuses
  // the commit with the library's message at the key's line.
  const dup = commitFiles(repo, { "configs/big2.yaml": blockConfig("big2", `${manyKeys(300_000)}k1: again\n`) });
  await withHealthz(t, s.url, waitFor(async () => (await s.store.refresh(), s.store.refused?.commit === dup)));
  t.deepEqual(s.store.refused?.problems.map((p) => `${p.file}:${p.line}:${p.column}`), ["configs/big2.yaml:300005:3"]);
});

const aliasBomb = () => `x: &x "${"y".repeat(100_000)}"\n` + Array.from({ length: 999 }, (_, i) => `a${i}: *x`).join("\n") + "\n";

test.serial("item 3: aliases that would expand 111 KB into 100 MB are refused by the API with the size, as a problem of a pushed file, and by validate", async (t) => {
  t.timeout(120_000);
  const s = await withServer(t);
  const before = head(s.repo);
  const r = await withHealthz(t, s.url, s.api.createConfig(cfg("bomb", aliasBomb())));
  t.is(r.status, 400);
  t.is(r.body.code, "InvalidParameter");
  t.regex(r.body.message, /^Invalid content of config bomb: .*its aliases \(\*name\) expand it by \d+ bytes \(9\d\.\d MiB\), more than the \d+ bytes \(\d+\.\d KiB\) aliases may add/);
  t.is(head(s.repo), before, "nothing committed");

  // A few aliases are fine, and v2 agents get them expanded.
  const small = await s.api.createConfig(cfg("small", "base: &b {Type: input_file}\ninputs: [*b, *b]\n"));
  t.is(small.body.code, "Accept", small.body.message);
  t.is(s.store.state.configs.get("small")?.detailJson, '{"base":{"Type":"input_file"},"inputs":[{"Type":"input_file"},{"Type":"input_file"}]}');

  // An alias that repeats its own container never ends: refused, not a hang or a crash.
  const loop = await s.api.createConfig(cfg("loop", "a: &a [1, *a]\n"));
  t.is(loop.status, 400);
  t.regex(loop.body.message, /an alias repeats a mapping or list it stands in/);

  // Pushed: the commit is refused as a validation problem of the file, and validate says the same.
  const bomb = commitFiles(s.repo, { "configs/bomb.yaml": configYaml("bomb", aliasBomb()) });
  await waitFor(async () => (await s.store.refresh(), s.store.refused?.commit === bomb));
  t.deepEqual(s.store.refused?.problems.map((p) => p.file), ["configs/bomb.yaml"]);
  t.regex(s.store.refused?.problems[0]?.message ?? "", /its aliases \(\*name\) expand it by/);
  t.false(s.store.state.configs.has("bomb"));
  const v = await runCli(["validate", s.repo]);
  t.is(v.code, 1);
  t.regex(v.stdout, /configs\/bomb\.yaml:4:\d+: .*its aliases \(\*name\) expand it by/);

});

test.serial("--max-config-size: a detail over the limit is refused by the API (size and limit named), by the server at a pushed file, and by validate", async (t) => {
  t.timeout(120_000);
  const s = await withServer(t, { maxConfigSize: 64 * 1024 });
  const big = manyKeys(10_000); // about 110 KB of JSON
  const r = await s.api.createConfig(cfg("big", big));
  t.is(r.status, 400);
  t.regex(r.body.message, /its JSON detail \(what v2 agents receive\) is 1\d{5} bytes \(\d+\.\d KiB\), more than the limit of 65536 bytes \(64\.0 KiB\) \(--max-config-size\)/);
  const json = await s.api.createConfig(cfg("bigjson", JSON.stringify(Object.fromEntries(Array.from({ length: 8000 }, (_, i) => [`k${i}`, "v"])))));
  t.is(json.status, 400, "a JSON object is passed through as it is: its own size counts");
  t.regex(json.body.message, /more than the limit of 65536 bytes/);
  t.is((await s.api.createConfig(cfg("fits", manyKeys(3000)))).body.code, "Accept");

  const pushed = commitFiles(s.repo, { "configs/big.yaml": blockConfig("big", big) });
  await waitFor(async () => (await s.store.refresh(), s.store.refused?.commit === pushed));
  t.deepEqual(s.store.refused?.problems.map((p) => `${p.file}:${p.line}`), ["configs/big.yaml:5"]);
  t.regex(s.store.refused?.problems[0]?.message ?? "", /more than the limit of 65536 bytes/);

  const strict = await runCli(["validate", "--max-config-size", "64KiB", s.repo]);
  t.is(strict.code, 1);
  t.regex(strict.stdout, /configs\/big\.yaml:5:3: .*more than the limit of 65536 bytes/);
  t.is((await runCli(["validate", s.repo])).code, 0, "the default (1 MiB) lets it through");
  const bad = await runCli(["validate", "--max-config-size", "lots", s.repo]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--max-config-size "lots" is not a size/);
});

const kafka = (password: string, user = "shipper") =>
  `inputs:\n  - Type: input_file\n    FilePaths: [/var/log/*.log]\nflushers:\n  - Type: flusher_kafka_v2\n    Brokers: [kafka:9092]\n    Authentication:\n      PlainText:\n        Username: ${user}\n        Password: ${password}\n`;

test.serial("secrets in pipelines: validate and the API warn about plain-text credentials; --secrets strict refuses them; ${ENV} references pass", async (t) => {
  t.timeout(120_000);
  const dir = writeRepo({
    "configs/kafka.yaml": blockConfig("kafka", kafka("hunter2")),
    "configs/http.yaml": blockConfig("http", "flushers:\n  - Type: flusher_http\n    Headers:\n      authorization: Bearer abc123\n"),
    "configs/safe.yaml": blockConfig("safe", kafka("${KAFKA_PASSWORD}", "${KAFKA_USER}")),
  });
  const warn = await runCli(["validate", "--format", "json", dir]);
  t.is(warn.code, 0, warn.stdout);
  const report = JSON.parse(warn.stdout) as { problems: Problem[]; warnings: Problem[] };
  t.deepEqual(report.warnings.map((w) => `${w.file}:${w.line}:${w.column}`), ["configs/http.yaml:8:24", "configs/kafka.yaml:13:21", "configs/kafka.yaml:14:21"]);
  const kafkaWarnings = report.warnings.filter((w) => w.file === "configs/kafka.yaml").map((w) => w.message);
  t.regex(kafkaWarnings.join("\n"), /flushers\[0\]\.Authentication\.PlainText\.Password holds a credential in plain text: write a reference such as "\$\{PASSWORD\}"/);
  t.regex(kafkaWarnings.join("\n"), /flushers\[0\]\.Authentication\.PlainText\.Username holds a credential/);
  const strict = await runCli(["validate", "--secrets", "strict", dir]);
  t.is(strict.code, 1);
  t.regex(strict.stdout, /configs\/kafka\.yaml:13:21: .*Username holds a credential in plain text.*--secrets strict refuses it/);
  t.notRegex(strict.stdout, /safe\.yaml/);

  const logs: { msg: string; warnings?: string[] }[] = [];
  const s = await withServer(t, { logger: pino({ level: "warn" }, { write: (l: string) => void logs.push(JSON.parse(l) as { msg: string }) }) });
  t.is((await s.api.createConfig(cfg("kafka", kafka("hunter2")))).body.code, "Accept", "warn (the default) accepts it");
  const logged = logs.find((l) => /credentials in plain text/.test(l.msg));
  t.regex(logged?.warnings?.join("\n") ?? "", /configs\/kafka\.yaml:\d+:\d+: .*Password holds a credential in plain text/, "the server log says so");
  const checked = await send(s.url, "POST", "/api/v1/validate", JSON.stringify({ kind: "config", text: blockConfig("k2", kafka("hunter2")) }), { "content-type": "application/json" });
  const body = JSON.parse(checked.body.toString("utf8")) as { valid: boolean; warnings: Problem[] };
  t.true(body.valid);
  t.deepEqual(body.warnings.map((w) => w.line), [13, 14]);

  const strictServer = await withServer(t, { secrets: "strict" });
  const refused = await strictServer.api.createConfig(cfg("kafka", kafka("hunter2")));
  t.is(refused.status, 400);
  t.regex(refused.body.message, /Invalid content of config kafka: line 9, column 19 of the content: flushers\[0\]\.Authentication\.PlainText\.Username holds a credential/);
  t.is((await strictServer.api.createConfig(cfg("kafka", kafka("${KAFKA_PASSWORD}", "${KAFKA_USER}")))).body.code, "Accept");
});
