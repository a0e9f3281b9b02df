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
  await server.store.refresh();
  await waitFor(() => server.store.refused?.commit === bad);

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
  t.is(server.store.refused, undefined);
  t.is(server.store.state.configs.get("nginx-access")?.version, held);
  t.deepEqual((await agent.cycle()).pipelineUpdates, [], "agents that never saw the bad content receive nothing");
  await rows.first().locator(".badge", { hasText: "kept" }).waitFor();
  t.deepEqual(errors, []);
});
