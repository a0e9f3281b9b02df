// The web console in a real headless Chromium on an operator's bad day (issue 25): a config page
// says its file is what makes HEAD refused, and rolling back from its history repairs HEAD
// without a fleet-wide reload.
import { rmSync } from "node:fs";
import test from "ava";
import type { Browser } from "playwright-core";
import { launchBrowser, openConsole, screenshots, templateRepo } from "./helpers/browser.ts";
import { git } from "./helpers/git.ts";
import { commitFiles } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { V2Agent } from "./helpers/v2Agent.ts";
import { statusOf, versionOf, waitForRefused } from "./helpers/observe.ts";

let browser: Browser;
test.before(async () => {
  browser = await launchBrowser();
});
test.after.always(() => browser?.close());

test.serial("a config page names its refused file and links the problem; rolling back to the served version repairs HEAD and agents reload nothing", async (t) => {
  const repo = templateRepo();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const server = await withServer(t, { repo });
  const agent = new V2Agent(server.url, "web-1", { role: "web" });
  t.teardown(() => agent.cleanup());
  await agent.cycle();
  agent.load();
  const held = agent.pipelines.get("nginx-access")?.version;
  t.truthy(held);

  const bad = commitFiles(repo, { "configs/nginx-access.yaml": "config_name: nginx-access\nagent_type: ilogtail\ncontent: [unclosed\n" }, "nginx: a broken edit");
  await waitForRefused(server.url, bad);

  const { page, errors } = await openConsole(t, browser, `${server.url}/ui/#/configs/nginx-access`);
  const banner = page.locator(".refused-file");
  await banner.waitFor();
  const text = (await banner.textContent()) ?? "";
  t.regex(text, new RegExp(`HEAD ${bad.slice(0, 10)} changes configs/nginx-access\\.yaml and fails validation`));
  t.regex(text, new RegExp(`agents keep version ${held}`));
  t.regex(text, /configs\/nginx-access\.yaml:\d+:\d+/);
  t.is(await banner.getByRole("link", { name: "Every problem of HEAD" }).getAttribute("href"), "#/");
  // The history marks the refused change (with why) and the served version.
  const rows = page.locator("table[aria-label=history] tbody tr");
  await rows.nth(1).waitFor();
  t.regex((await rows.first().textContent()) ?? "", /refused.*nginx: a broken edit.*configs\/nginx-access\.yaml/);
  t.is(await rows.first().getByRole("button", { name: /^Roll back/ }).count(), 0, "no rollback to a refused version");
  t.regex((await rows.nth(1).textContent()) ?? "", new RegExp(`^${held}served`));
  await screenshots(page, "config-refused");

  await rows.nth(1).getByRole("button", { name: `Roll back to ${held}` }).click();
  const dialog = page.locator("dialog[open]");
  await dialog.waitFor();
  t.regex((await dialog.textContent()) ?? "", new RegExp(`they keep version ${held} and reload nothing`));
  await dialog.getByRole("button", { name: "Make the commit" }).click();
  await page.getByText(/^Committed [0-9a-f]{10}: nginx-access is now version/).waitFor();
  await banner.waitFor({ state: "detached" });
  t.is(git(repo, "rev-parse", "HEAD^").trim(), bad, "one commit on top of the broken one");
  t.is((await statusOf(server.url)).refused, null);
  t.is(await versionOf(server.url, "nginx-access"), held);
  t.deepEqual((await agent.cycle()).pipelineUpdates, [], "agents that never saw the bad content receive nothing");
  await rows.first().locator(".badge", { hasText: "kept" }).waitFor();
  t.deepEqual(errors, []);
});

// A real flusher_kafka failure: long, with tokens (broker lists, paths) that have no space to wrap at.
const KAFKA = "flusher_kafka_v2: failed to initialize the producer: kafka: client has run out of available brokers to talk to (Is your cluster reachable?) brokers=kafka-0.kafka-headless.logging.svc.cluster.local:9092,kafka-1.kafka-headless.logging.svc.cluster.local:9092,kafka-2.kafka-headless.logging.svc.cluster.local:9092 " +
  "last error: dial tcp 10.96.12.7:9092: connect: connection refused; topic=app-logs-production-eu-west-1 retries=3 backoff=100ms sasl=PLAIN tls=true cert=/etc/loongcollector/certs/kafka-client.pem. The pipeline nginx-access is not loaded; the previous version keeps running.";

test.serial("an agent's failure message reads as prose at any width, folded, with the full text on demand", async (t) => {
  const repo = templateRepo();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const server = await withServer(t, { repo });
  const agent = new V2Agent(server.url, "web-kafka", { role: "web" });
  t.teardown(() => agent.cleanup());
  await agent.cycle();
  agent.load(() => KAFKA);
  await agent.cycle();
  const { page, errors } = await openConsole(t, browser, `${server.url}/ui/#/agents/web-kafka`);
  for (const [url, scope] of [[`${server.url}/ui/#/agents/web-kafka`, "#agent-pipelines"], [`${server.url}/ui/#/configs/nginx-access`, "#rollout"]] as const) {
    await page.goto(url);
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      const card = page.locator(scope);
      const message = card.locator(".message-text");
      await message.waitFor();
      const box = await message.boundingBox();
      const cardBox = await card.boundingBox();
      // As wide as its card (less the padding), not a column a few characters wide.
      t.true((box?.width ?? 0) > (cardBox?.width ?? 0) * 0.8, `${scope} at ${width}px: the message is ${box?.width}px wide in a ${cardBox?.width}px card`);
      t.true((await message.evaluate((e) => e.scrollWidth <= e.clientWidth + 1)), `${scope} at ${width}px: nothing overflows sideways`);
      // Folded to a few lines; the whole text on demand.
      t.true(await message.evaluate((e) => e.scrollHeight > e.clientHeight + 1), `${scope} at ${width}px: folded`);
      await card.getByRole("button", { name: "Show the full message" }).click();
      t.true(await message.evaluate((e) => e.scrollHeight <= e.clientHeight + 1), `${scope} at ${width}px: unfolded`);
      t.is(await message.textContent(), KAFKA);
      await card.getByRole("button", { name: "Show less" }).click();
    }
    await screenshots(page, scope === "#rollout" ? "config-failure-message" : "agent-failure-message");
  }
  t.deepEqual(errors, []);
});

test.serial("the overview lists recent changes: author, message, configs touched and where each stands (rollout, refused)", async (t) => {
  const repo = templateRepo();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const server = await withServer(t, { repo });
  const agent = new V2Agent(server.url, "web-1", { role: "web" });
  t.teardown(() => agent.cleanup());
  const original = git(repo, "show", "HEAD:configs/nginx-access.yaml");
  const changed = original.replace("/var/log/nginx/access.log", "/var/log/nginx/other.log");
  const r = await fetch(`${server.url}/User/UpdateConfig`, {
    method: "PUT",
    headers: { "content-type": "application/json", "x-configserver-author": "Ann Example <ann@example.com>", "x-configserver-message": "nginx: read other.log" },
    body: JSON.stringify({ configDetail: { configName: "nginx-access", agentType: "ilogtail", description: "d", content: "enable: true\ninputs:\n  - Type: input_file\n    FilePaths: [/var/log/nginx/other.log]\nflushers:\n  - Type: flusher_stdout\n" } }),
  });
  t.is(r.status, 200);
  await agent.cycle();
  agent.load();
  await agent.cycle();
  const bad = commitFiles(repo, { "configs/java-app.yaml": "config_name: java-app\ncontent: [unclosed\n" }, "java-app: a broken edit");
  await waitForRefused(server.url, bad);
  t.truthy(changed);

  const { page, errors } = await openConsole(t, browser, `${server.url}/ui/#/`);
  const changes = page.locator("#changes .change");
  await changes.nth(2).waitFor();
  const first = (await changes.nth(0).textContent()) ?? "";
  t.regex(first, new RegExp(`^${bad.slice(0, 10)} java-app: a broken edit`));
  t.regex(first, /refused: fails validation/);
  t.regex(first, /java-app \(modified\) — not served/);
  const second = (await changes.nth(1).textContent()) ?? "";
  t.regex(second, /nginx: read other\.log/);
  t.regex(second, /Ann Example <ann@example\.com>/);
  t.regex(second, /served/);
  t.regex(second, /nginx-access \(modified\) — version \d+: 1 of 1 agent applied/);
  t.regex((await changes.nth(2).textContent()) ?? "", /Start from the configserver template.*nginx-access \(created\) — changed again since/);
  t.is(await changes.nth(1).getByRole("link", { name: "nginx-access" }).getAttribute("href"), "#/configs/nginx-access");
  await screenshots(page, "overview-changes");

  // The JSON route behind it, and its one parameter.
  const json = (await (await fetch(`${server.url}/api/v1/changes?limit=2`)).json()) as { changes: { commit: string; commitState: string; configs: { name: string; state: string; rollout: { applied: number } | null }[] }[] };
  t.is(json.changes.length, 2);
  t.like(json.changes[0], { commit: bad, commitState: "refused", configs: [{ name: "java-app", state: "notServed", rollout: null }] });
  t.like(json.changes[1], { commitState: "served", configs: [{ name: "nginx-access", state: "served", rollout: { applied: 1 } }] });
  const badLimit = await fetch(`${server.url}/api/v1/changes?limit=0`);
  t.is(badLimit.status, 400);
  t.regex(((await badLimit.json()) as { message: string }).message, /limit must be a number of commits from 1 to 50/);
  t.deepEqual(errors, []);
});
