// The fleet in the console, in a real headless Chromium: a v2 agent that heartbeats is listed,
// its FAILED config and the message show in the rollout, and agent-controlled strings (tags,
// failure messages, alarms) are shown as text and run nothing.
import { rmSync } from "node:fs";
import test from "ava";
import type { Browser } from "playwright-core";
import { launchBrowser, openConsole, screenshots, templateRepo } from "./helpers/browser.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { V2Agent } from "./helpers/v2Agent.ts";
import { heartbeatAll } from "./helpers/observe.ts";

let browser: Browser;
test.before(async () => {
  browser = await launchBrowser();
});
test.after.always(() => browser?.close());

const XSS = `<img src=x onerror="window.__pwned=1">`;

test.serial("a heartbeating v2 agent is listed; its FAILED config and message are in the rollout; its strings stay text", async (t) => {
  const repo = templateRepo();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const server = await withServer(t, { repo });
  const agent = new V2Agent(server.url, "web-7f3a", { role: "web", note: XSS });
  t.teardown(() => agent.cleanup());
  const healthy = new V2Agent(server.url, "web-0001", { role: "web" });
  t.teardown(() => healthy.cleanup());
  for (const a of [agent, healthy]) await a.cycle();
  t.truthy(agent.pipelines.get("nginx-access"), "the web group's config reached the agent");
  agent.load(() => `${XSS} processor_parse_regex_native: bad Regex`);
  healthy.load();
  for (const a of [agent, healthy]) await a.cycle();
  await server.api.alarm({ agent_id: "web-7f3a", type: "PARSE_ALARM", detail: `${XSS} could not parse line 3` });

  const { page, errors } = await openConsole(t, browser, `${server.url}/ui/#/agents`);
  const row = page.locator("table[aria-label=agents] tbody tr", { hasText: "web-7f3a" });
  await row.waitFor();
  t.regex((await row.textContent()) ?? "", /v2/);
  t.true(((await row.locator(".tag").allTextContents())).includes(`note=${XSS}`), "the tag is shown as its text");
  await page.locator(".total", { hasText: "2 agents match" }).waitFor();
  await screenshots(page, "agents");

  // Filters are answered by the server.
  await page.getByLabel("Search").fill("7f3a");
  await page.locator(".total", { hasText: "1 agent matches" }).waitFor();
  t.is(await page.locator("table[aria-label=agents] tbody tr").count(), 1);
  await page.getByLabel("Configs").selectOption("false");
  await page.locator(".total", { hasText: "0 agents match" }).waitFor();
  t.regex(page.url(), /q=7f3a/);

  await page.goto(`${server.url}/ui/#/configs/nginx-access`);
  await page.locator(".count-failed", { hasText: "1" }).waitFor();
  t.is(await page.locator(".count-applied").textContent(), "1");
  const failure = page.locator(".failure");
  t.is(await failure.locator(".message-text").textContent(), `${XSS} processor_parse_regex_native: bad Regex`);
  t.regex((await failure.textContent()) ?? "", /1 agent: web-7f3a/);
  await screenshots(page, "config-rollout");

  await failure.getByRole("link", { name: "web-7f3a" }).click();
  await page.locator("#agent-pipelines .badge.s-failed").waitFor();
  t.regex((await page.locator("#agent-pipelines").textContent()) ?? "", /nginx-access.*FAILED/);
  t.regex((await page.locator("#agent-alarms").textContent()) ?? "", /PARSE_ALARM/);
  t.true((await page.locator("#agent-alarms pre").textContent())?.startsWith(XSS));
  t.regex((await page.locator("#agent-facts").textContent()) ?? "", /web/);
  await screenshots(page, "agent");

  // Nothing from the agent became markup or ran.
  t.is(await page.locator("main img").count(), 0);
  t.is(await page.evaluate("window.__pwned"), undefined);
  t.deepEqual(errors, []);
});

test.serial("the agents page pages through a fleet with the server's cursor", async (t) => {
  const server = await withServer(t);
  await heartbeatAll(server.api, Array.from({ length: 120 }, (_, i) => ({
    agent_id: `agent-${String(i).padStart(4, "0")}`,
    agent_type: "LoongCollector",
    agent_version: "3.0.5",
    ip: `10.0.0.${i}`,
    tags: { env: i % 3 ? "prod" : "dev" },
    running_status: "running",
    startup_time: 1_700_000_000,
  })));
  const { page, errors } = await openConsole(t, browser, `${server.url}/ui/#/agents`);
  await page.locator(".total", { hasText: "120 agents match; 50 per page" }).waitFor();
  const ids = () => page.locator("table[aria-label=agents] tbody tr td:first-child").allTextContents();
  t.is((await ids())[0], "agent-0000");
  await page.getByRole("button", { name: "Next" }).click();
  await waitFor(async () => (await ids())[0] === "agent-0050");
  await page.getByRole("button", { name: "Next" }).click();
  await waitFor(async () => (await ids())[0] === "agent-0100");
  t.is((await ids()).length, 20);
  t.true(await page.getByRole("button", { name: "Next" }).isDisabled());
  await page.getByRole("button", { name: "Previous" }).click();
  await waitFor(async () => (await ids())[0] === "agent-0050");
  await page.getByLabel("Tag").fill("env=dev");
  await page.locator(".total", { hasText: "40 agents match" }).waitFor();
  t.is((await ids())[0], "agent-0000", "a new filter starts at the first page");
  t.deepEqual(errors, []);
});
