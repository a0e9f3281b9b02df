// A real EDOT Node.js application (@elastic/opentelemetry-node, which nobody here wrote) takes
// its central configuration from a commit: the SDK polls /v1/opamp, applies the `elastic` file
// of its config map, logs it, and reports APPLIED or FAILED, which the server shows.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import test from "ava";
import { callJson } from "./helpers/client.ts";
import { commitFiles, groupYaml, repoWith } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { waitForCommit } from "./helpers/observe.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const app = fileURLToPath(new URL("./fixtures/edot-app.mjs", import.meta.url));
const elastic = (content: string) => `config_name: elastic\nagent_type: opamp\ndescription: EDOT SDKs' central configuration\ncontent: ${JSON.stringify(content)}\n`;

type Line = { level?: number; msg?: string; [k: string]: unknown };

test("an EDOT Node.js app applies its central configuration from a commit, and the server shows it applied (and a refused one FAILED)", async (t) => {
  const repo = repoWith("cs-edot-", { "agent_groups/checkout.yaml": groupYaml("checkout", [], [["service.name", "checkout-edot"]]) });
  const s = await withServer(t, { repo });
  const lines: Line[] = [];
  const child = spawn(process.execPath, ["--import", "@elastic/opentelemetry-node", app], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      OTEL_SERVICE_NAME: "checkout-edot",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=test",
      // Local detectors only, no exporters: nothing leaves the machine.
      OTEL_NODE_RESOURCE_DETECTORS: "env,host,os,process",
      OTEL_TRACES_EXPORTER: "none",
      OTEL_METRICS_EXPORTER: "none",
      OTEL_LOGS_EXPORTER: "none",
      ELASTIC_OTEL_OPAMP_ENDPOINT: `${s.url}/v1/opamp`,
      ELASTIC_OTEL_EXPERIMENTAL_OPAMP_HEARTBEAT_INTERVAL: "200",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => {
    child.kill("SIGTERM");
  });
  let buffered = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p) as Line);
      } catch {
        lines.push({ msg: p });
      }
    }
  });
  child.stderr.on("data", (chunk: Buffer) => t.log(chunk.toString().trim()));

  // The SDK shows up as an OpAMP agent, selected by its service.name, with an empty map applied.
  const found = await waitFor(async () => {
    const b = (await callJson(s.url, "GET", "/api/v1/agents?protocol=opamp")).body as { agents: { agentId: string; tags: Record<string, string> }[] };
    return b.agents.find((a) => a.tags["service.name"] === "checkout-edot");
  });
  t.is(found.tags["deployment.environment.name"], "test");
  const detail = async () => (await callJson(s.url, "GET", `/api/v1/agents/${found.agentId}`)).body as { groups: string[]; remoteConfig: { status: string; error: string }; pipelineConfigs: { name: string; status: string; message: string }[] };
  await waitFor(async () => (await detail()).remoteConfig?.status === "APPLIED");
  t.deepEqual((await detail()).groups, ["checkout", "default"]);
  t.false(lines.some((l) => l.msg?.includes("central-config")), "nothing applied before the commit");

  // The commit: logging_level debug for the checkout group.
  const c1 = commitFiles(repo, { "configs/elastic.yaml": elastic('{"logging_level":"debug"}'), "agent_groups/checkout.yaml": groupYaml("checkout", ["elastic"], [["service.name", "checkout-edot"]]) });
  await waitForCommit(s.url, c1);
  const set = await waitFor(() => lines.findIndex((l) => l.msg === 'central-config: set "logging_level" to "debug"') + 1);
  await waitFor(() => lines.some((l) => l.msg === "successfully applied remote config"));
  // Its behaviour changed: the application's debug lines are now printed, and were not before.
  const tick = (l: Line) => l.msg === "edot-app: tick";
  t.false(lines.slice(0, set - 1).some(tick));
  await waitFor(() => lines.slice(set).some(tick));
  const applied = await waitFor(async () => {
    const d = await detail();
    return d.pipelineConfigs.some((c) => c.name === "elastic" && c.status === "APPLIED") ? d : undefined;
  });
  t.is(applied.remoteConfig.status, "APPLIED");
  const r = (await callJson(s.url, "GET", "/api/v1/configs/elastic/rollout")).body as Record<string, unknown>;
  t.like(r, { targeted: 1, applied: 1, failed: 0 });

  // A setting this SDK does not know: it refuses the map, and the server shows why.
  const c2 = commitFiles(repo, { "configs/elastic.yaml": elastic('{"logging_level":"debug","bogus_setting":true}') });
  await waitForCommit(s.url, c2);
  const failed = await waitFor(async () => {
    const d = await detail();
    return d.remoteConfig.status === "FAILED" ? d : undefined;
  });
  t.regex(failed.remoteConfig.error, /config name "bogus_setting" is unsupported/);
  const r2 = (await callJson(s.url, "GET", "/api/v1/configs/elastic/rollout")).body as { failed: number; failures: { message: string }[] };
  t.is(r2.failed, 1);
  t.regex(r2.failures[0]?.message ?? "", /bogus_setting/);
});
