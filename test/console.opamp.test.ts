// OpAMP agents in the console, in a real headless Chromium: listed in one fleet with a v2 agent,
// and an OpAMP agent's page shows its health, remote config status and drift, agent strings as text.
import { rmSync } from "node:fs";
import test from "ava";
import type { Browser } from "playwright-core";
import { opamp } from "../src/gen/proto.js";
import { send } from "./helpers/client.ts";
import { launchBrowser, openConsole } from "./helpers/browser.ts";
import { groupYaml, repoWith } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { V2Agent } from "./helpers/v2Agent.ts";

const pb = opamp.proto.v1;
let browser: Browser;
test.before(async () => {
  browser = await launchBrowser();
});
test.after.always(() => browser?.close());

const XSS = `<img src=x onerror="window.__pwned=1">`;
const otel = (name: string, content: string) => `config_name: ${name}\nagent_type: opamp\ndescription: ""\ncontent: ${JSON.stringify(content)}\n`;

test.serial("an OpAMP agent beside a v2 agent: listed as opamp; its page shows health, remote config status and drift", async (t) => {
  const repo = repoWith("cs-opamp-ui-", { "configs/collector.yaml": otel("collector", "receivers: {}\n"), "agent_groups/default.yaml": groupYaml("default", ["collector"]) });
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const server = await withServer(t, { repo });
  const v2 = new V2Agent(server.url, "loong-1", { role: "web" });
  t.teardown(() => v2.cleanup());
  await v2.cycle();
  const uid = Buffer.from("0190d7e3a1b27c4d8e9f0000ccccdddd", "hex");
  const id = "0190d7e3-a1b2-7c4d-8e9f-0000ccccdddd";
  const post = async (m: Record<string, unknown>) => {
    const raw = await send(server.url, "POST", "/v1/opamp", pb.AgentToServer.encode({ instance_uid: uid, capabilities: 0x1 | 0x2 | 0x4 | 0x800 | 0x1000, ...m } as unknown as opamp.proto.v1.IAgentToServer).finish(), { "content-type": "application/x-protobuf" });
    return pb.ServerToAgent.decode(raw.body);
  };
  const first = await post({ sequence_num: 1, agent_description: { identifying_attributes: [{ key: "service.name", value: { string_value: "otelcol" } }] } });
  await post({
    sequence_num: 2,
    remote_config_status: { last_remote_config_hash: first.remote_config?.config_hash, status: pb.RemoteConfigStatuses.RemoteConfigStatuses_APPLIED },
    health: { healthy: false, last_error: `${XSS} exporter down` },
    effective_config: { config_map: { config_map: { collector: { body: Buffer.from("receivers: {otlp: {}}\n"), content_type: "application/yaml" } } } },
  });

  const { page, errors } = await openConsole(t, browser, `${server.url}/ui/#/agents`);
  const row = page.locator("table[aria-label=agents] tbody tr", { hasText: id });
  await row.waitFor();
  t.regex((await row.textContent()) ?? "", /opamp/);
  await page.locator("table[aria-label=agents] tbody tr", { hasText: "loong-1" }).waitFor();

  await page.goto(`${server.url}/ui/#/agents/${id}`);
  const card = page.locator("#agent-opamp");
  await card.waitFor();
  await waitFor(async () => /drift/.test((await page.locator("#agent-drift").textContent()) ?? ""));
  const text = (await card.textContent()) ?? "";
  t.regex(text, /unhealthy/);
  t.true(text.includes(`${XSS} exporter down`), "the agent's error is shown as its text");
  t.regex(text, /APPLIED/);
  t.regex(text, /collector\s*differs/);
  t.regex((await page.locator("#agent-pipelines").textContent()) ?? "", /collector.*APPLIED/);
  t.is(await page.locator("main img").count(), 0);
  t.is(await page.evaluate("window.__pwned"), undefined);
  t.deepEqual(errors, []);
});
