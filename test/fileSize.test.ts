import { join } from "node:path";
import test from "ava";
import { runCli } from "./helpers/cli.ts";
import { git, tempDir } from "./helpers/git.ts";
import { bareRemote, commitFiles, configYaml, groupYaml } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { configOf, servedCommit, statusOf, waitForRefused } from "./helpers/observe.ts";

const LIMIT = 4 * 1024 * 1024;
const initial = { "configs/app.yaml": configYaml("app", "v1"), "agent_groups/default.yaml": groupYaml("default", ["app"]) };
/** A valid config file just over the default 4 MiB limit. */
const oversize = () => {
  const head = "config_name: big\nagent_type: ilogtail\ndescription: \"\"\ncontent: |\n";
  const line = "  # padding line of a config that grew too large\n";
  return head + line.repeat(Math.ceil((LIMIT + 1 - head.length) / line.length));
};

test("a file over --max-file-size pushed to the remote is refused as a problem naming file, size and limit; the last good commit stays served", async (t) => {
  const { url, person } = bareRemote(initial);
  const s = await withServer(t, { repo: join(tempDir("cs-clone-"), "repo"), remote: url, syncIntervalMs: 100 });
  const good = await servedCommit(s.url);
  const big = oversize();
  const size = Buffer.byteLength(big);
  const pushed = commitFiles(person, { "configs/big.yaml": big });
  git(person, "push", "-q", "origin", "main");
  const refused = await waitForRefused(s.url, pushed);
  const problem = refused.problems.find((p) => p.file === "configs/big.yaml");
  t.truthy(problem, JSON.stringify(refused.problems));
  t.regex(problem?.message ?? "", new RegExp(`${size} bytes`));
  t.regex(problem?.message ?? "", /limit of 4 MiB \(--max-file-size\)/);
  t.is(await servedCommit(s.url), good);
  t.is(await configOf(s.url, "big"), undefined);
  // /status shows the same problem.
  const status = JSON.parse(await (await fetch(`${s.url}/status`)).text()) as { refused: { problems: { file: string; message: string }[] } };
  t.true(status.refused.problems.some((p) => p.file === "configs/big.yaml" && /larger than the limit/.test(p.message)));

  // Removing it makes the repository servable again.
  git(person, "rm", "-q", "configs/big.yaml");
  git(person, "commit", "-q", "-m", "too big");
  git(person, "push", "-q", "origin", "main");
  await waitFor(async () => (await statusOf(s.url)).refused === null && (await servedCommit(s.url)) !== good);
  // Its history still holds the oversize version: asking for it is refused, not read.
  const history = JSON.parse(await (await fetch(`${s.url}/api/v1/configs/big/history`)).text()) as { versions?: { version: number; action: string }[] };
  const added = history.versions?.find((v) => v.action !== "deleted");
  t.truthy(added, JSON.stringify(history));
  const version = await fetch(`${s.url}/api/v1/configs/big/versions/${added?.version}`);
  t.is(version.status, 400);
  t.regex(await version.text(), /larger than the limit of 4 MiB \(--max-file-size\), so it is not read/);
});

test("validate refuses an oversize file (working tree and --head); a lower --max-file-size applies to the server's own API writes", async (t) => {
  const { person } = bareRemote(initial);
  commitFiles(person, { "configs/big.yaml": oversize() });
  const cli = await runCli(["validate", person]);
  t.is(cli.code, 1, cli.stdout + cli.stderr);
  t.regex(cli.stdout, /configs\/big\.yaml.*larger than the limit of 4 MiB/);
  const atHead = await runCli(["validate", person, "--head", "HEAD", "--format", "json"]);
  t.is(atHead.code, 1);
  t.regex(atHead.stdout, /configs\/big\.yaml/);
  t.is((await runCli(["validate", person, "--max-file-size", "8MiB"])).code, 0);

  const s = await withServer(t, { maxFileSize: 1024 });
  const r = await s.api.createConfig({ config_detail: { config_name: "wide", content: "x".repeat(2000) } });
  t.is(r.body.code, "InvalidParameter");
  t.regex(r.body.message, /configs\/wide\.yaml would be .* larger than the limit of 1 KiB/);
  t.is((await s.api.createConfig({ config_detail: { config_name: "small", content: "x" } })).body.code, "Accept");
});
