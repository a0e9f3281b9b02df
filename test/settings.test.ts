// Settings as the real process reads them: a settings file, the environment and flags, invalid
// values, and --help (how each resolves, one function at a time, is in test/unit/settingsResolve.test.ts).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { stringify } from "yaml";
import { envName, OPTIONS } from "../src/settings/options.ts";
import { runCli } from "./helpers/cli.ts";
import { pb, send } from "./helpers/client.ts";
import { tempDir } from "./helpers/git.ts";
import { serveProcess } from "./helpers/serveProcess.ts";

function settingsFile(values: Record<string, unknown>): string {
  const path = join(tempDir("cs-settings-"), "configserver.yaml");
  writeFileSync(path, stringify(values));
  return path;
}

test("the process refuses invalid settings, listing all problems, and exits non-zero", async (t) => {
  const config = settingsFile({ repo: "r", "body-limit": "lots" });
  const p = serveProcess(["--config", config, "--port", "70000"], { CONFIGSERVER_AGENT_TTL: "forever" });
  t.is(await p.exited, 2);
  t.regex(p.stderr(), /invalid settings \(3 problems\)/);
  t.regex(p.stderr(), /--port: "70000"/);
  t.regex(p.stderr(), /CONFIGSERVER_AGENT_TTL: "forever"/);
  t.regex(p.stderr(), /body-limit in .*configserver\.yaml: "lots"/);
  t.false(p.logs.some((l) => l.msg === "configserver listening"));
});

test("the process takes settings from file, environment and flags, and stops on SIGTERM with 0", async (t) => {
  const dir = tempDir("cs-serve-");
  writeFileSync(join(dir, "user.token"), "s3cret\n");
  const config = join(dir, "configserver.yaml");
  writeFileSync(config, stringify({ repo: "state", port: 1, "log-level": "debug", "agent-ttl": "5m", "user-token-file": "user.token", "read-only": true }));
  const p = serveProcess(["--config", config, "--agent-ttl", "7m", "--no-read-only"], { CONFIGSERVER_PORT: "0", CONFIGSERVER_LOG_LEVEL: "info" });
  t.teardown(() => p.child.kill("SIGKILL"));
  const url = await p.url();
  const logged = p.logs.find((l) => l.msg === "settings") as { settings: Record<string, unknown>; sources: Record<string, string> };
  t.like(logged.settings, { repo: join(dir, "state"), port: 0, logLevel: "info", agentTtlMs: 420_000, readOnly: false, userToken: "(set)" });
  t.like(logged.sources, { repo: "file", port: "env", "log-level": "env", "agent-ttl": "flag", "read-only": "flag", "user-token": "file", host: "default" });
  t.false(JSON.stringify(p.logs).includes("s3cret"), "the token is never logged");
  const list = pb.ListConfigsRequest.encode({}).finish();
  t.is((await send(url, "GET", "/User/ListConfigs", list)).status, 401);
  const ok = await send(url, "GET", "/User/ListConfigs", list, { authorization: "Bearer s3cret" });
  t.is(pb.ListConfigsResponse.decode(ok.body).code, "Accept");
  p.child.kill("SIGTERM");
  t.is(await p.exited, 0);
  t.truthy(p.logs.find((l) => l.msg === "stopped"));
});

test("serve --help documents every option with its default and environment variable", async (t) => {
  const r = await runCli(["serve", "--help"]);
  t.is(r.code, 0);
  const help = r.stdout.replace(/\s+/g, " ");
  for (const o of OPTIONS) {
    if (o.fileOnly) {
      t.true(help.includes(`Settings file only: ${o.name}`), o.name);
      continue;
    }
    t.true(help.includes(`--${o.name}`), o.name);
    t.true(help.includes(envName(o.name)), envName(o.name));
    if (o.default !== undefined) t.true(help.includes(`default: ${o.default}`), `${o.name} default`);
  }
  t.true(help.includes("--config"));
  t.regex(help, /flags > environment \(CONFIGSERVER_\*\) > settings file \(--config\) > defaults/);
});
