// The web console in a real headless Chromium: the served commit, editing a config as one commit,
// a validation error shown at its line with nothing committed, rollback from the history.
import { rmSync } from "node:fs";
import test from "ava";
import type { Browser } from "playwright-core";
import { launchBrowser, openConsole, screenshots, templateRepo } from "./helpers/browser.ts";
import { git } from "./helpers/git.ts";
import { commitFiles } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { groupOf, servedCommit, versionOf, waitForCommit } from "./helpers/observe.ts";

let browser: Browser;
test.before(async () => {
  browser = await launchBrowser();
});
test.after.always(() => browser?.close());

async function served(t: Parameters<typeof withServer>[0], options: Parameters<typeof withServer>[1] = {}) {
  const repo = templateRepo();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const server = await withServer(t, { repo, ...options });
  return { repo, server, count: () => Number(git(repo, "rev-list", "--count", "HEAD").trim()) };
}

test.serial("the overview shows the served commit with its message and follows new commits on its own; / leads to the console", async (t) => {
  const { repo, server } = await served(t);
  const { page, errors } = await openConsole(t, browser, `${server.url}/`);
  const head = git(repo, "rev-parse", "HEAD").trim();
  t.regex(page.url(), /\/ui\/$/);
  await page.locator(".served-commit code").waitFor();
  t.is(await page.locator(".served-commit code").textContent(), head.slice(0, 10));
  await page.locator(".commit-subject", { hasText: "Start from the configserver template" }).waitFor();
  t.is(await page.locator("header .served code").textContent(), head.slice(0, 10));
  await screenshots(page, "overview");
  // Someone commits in the repository: the page follows on its own, without reloading the app.
  await page.evaluate("window.__sameApp = true");
  const next = commitFiles(repo, { "configs/extra.yaml": "config_name: extra\ncontent: |\n  enable: true\n" }, "Add extra");
  await page.locator("header .served code", { hasText: next.slice(0, 10) }).waitFor();
  await page.locator(".commit-subject", { hasText: "Add extra" }).waitFor();
  t.true(await page.evaluate("window.__sameApp === true"));
  for (const [hash, name, ready] of [["#/configs", "configs", "table[aria-label=configs] tbody tr"], ["#/groups", "groups", "table[aria-label=groups] tbody tr"], ["#/groups/web", "group", ".applied li"], ["#/instance-configs/node-send-limit", "instance-config", "table[aria-label=history] tbody tr"]] as const) {
    await page.goto(`${server.url}/ui/${hash}`);
    await page.locator(ready).first().waitFor();
    await screenshots(page, name);
  }
  t.deepEqual(errors, []);
});

test.serial("editing a config in the editor makes one commit with the typed message and author", async (t) => {
  const { repo, server, count } = await served(t);
  const { page, errors } = await openConsole(t, browser, `${server.url}/ui/#/edit/config/nginx-access`);
  const editor = page.getByLabel("config file");
  await waitFor(async () => (await editor.inputValue()).includes("config_name: nginx-access"));
  const before = count();
  await editor.fill((await editor.inputValue()).replace("OnlyStdout: true", "OnlyStdout: false"));
  await page.locator(".validation-ok").waitFor();
  await page.getByLabel("Commit message").fill("nginx: stdout only on demand");
  await page.getByLabel("Author name").fill("Ada Lovelace");
  await page.getByLabel("Author email").fill("ada@example.com");
  await page.getByRole("button", { name: "Commit" }).click();
  await page.getByText(/^Committed: the server now serves/).waitFor();
  t.is(count(), before + 1);
  t.is(git(repo, "log", "-1", "--format=%an|%ae|%s").trim(), "Ada Lovelace|ada@example.com|nginx: stdout only on demand");
  t.regex(git(repo, "show", "HEAD:configs/nginx-access.yaml"), /OnlyStdout: false/);
  t.is(await servedCommit(server.url), git(repo, "rev-parse", "HEAD").trim());
  // The editor now shows the file as committed, and says so.
  await page.getByText("Valid, and the same as the served file.").waitFor();
  t.deepEqual(errors, []);
});

test.serial("a validation error is shown at its line and nothing is committed", async (t) => {
  const { repo, server, count } = await served(t);
  const { page, errors } = await openConsole(t, browser, `${server.url}/ui/#/edit/config/nginx-access`);
  const editor = page.getByLabel("config file");
  await waitFor(async () => (await editor.inputValue()).includes("config_name: nginx-access"));
  const before = count();
  const lines = (await editor.inputValue()).split("\n");
  t.regex(lines[2] as string, /^description:/);
  lines[2] = "descripton: a typo on line 3";
  await editor.fill(lines.join("\n"));
  await page.locator('.gutter li.bad[data-line="3"]').waitFor();
  const problem = page.locator("ul.problems li").first();
  t.regex((await problem.textContent()) ?? "", /^line 3, column 1: unknown field "descripton": did you mean "description"\?/);
  t.is(await page.locator(".gutter li.bad").count(), 1);
  await screenshots(page, "edit-problems");
  await page.getByLabel("Commit message").fill("must not be committed");
  await page.getByRole("button", { name: "Commit" }).click();
  await page.getByText(/^Not committed: 1 problem to fix first/).waitFor();
  t.is(count(), before);
  t.is(git(repo, "status", "--porcelain").trim(), "");
  t.deepEqual(errors, []);
});

test.serial("rollback from the history asks first, then makes a forward commit restoring the version", async (t) => {
  const { repo, server, count } = await served(t);
  const original = git(repo, "show", "HEAD:configs/nginx-access.yaml");
  const first = await versionOf(server.url, "nginx-access");
  const changed = commitFiles(repo, { "configs/nginx-access.yaml": original.replace("/var/log/nginx/access.log", "/var/log/nginx/other.log") }, "nginx: read other.log");
  await waitForCommit(server.url, changed);
  const { page, errors } = await openConsole(t, browser, `${server.url}/ui/#/configs/nginx-access`);
  await page.locator("table[aria-label=history] tbody tr").nth(1).waitFor();
  await page.locator("table[aria-label=history] tbody tr").first().getByRole("button", { name: "Diff" }).click();
  await page.locator(".diff-table tr.add", { hasText: "other.log" }).waitFor();
  await page.locator(".diff-table tr.del", { hasText: "access.log" }).waitFor();
  await screenshots(page, "config");
  const before = count();
  await page.getByRole("button", { name: `Roll back to ${first}` }).click();
  const dialog = page.locator("dialog[open]");
  await dialog.waitFor();
  t.regex((await dialog.textContent()) ?? "", /a new commit/);
  await screenshots(page, "rollback-dialog");
  t.is(count(), before, "nothing happens before the confirmation");
  await dialog.getByLabel("Commit message").fill("Back to reading access.log");
  await dialog.getByLabel("Author name").fill("José Núñez");
  await dialog.getByLabel("Author email").fill("jose@example.com");
  await dialog.getByRole("button", { name: "Make the commit" }).click();
  await page.getByText(/^Committed [0-9a-f]{10}: nginx-access is now version/).waitFor();
  t.is(count(), before + 1);
  t.is(git(repo, "rev-parse", "HEAD^").trim(), changed, "a forward commit on top of the served one");
  t.is(git(repo, "show", "HEAD:configs/nginx-access.yaml"), original);
  t.is(git(repo, "log", "-1", "--format=%an <%ae>|%s").trim(), "José Núñez <jose@example.com>|Back to reading access.log", "UTF-8 names reach the commit");
  t.true(((await versionOf(server.url, "nginx-access")) ?? 0) > (first ?? 0));
  t.deepEqual(errors, []);
});

test.serial("editing a group file changes its tags and configs in one commit; apply and remove are one commit each", async (t) => {
  const { repo, server, count } = await served(t);
  const { page, errors } = await openConsole(t, browser, `${server.url}/ui/#/edit/group/web`);
  const editor = page.getByLabel("agent group file");
  await waitFor(async () => (await editor.inputValue()).includes("group_name: web"));
  const before = count();
  await editor.fill("group_name: web\ndescription: web and edge\ntags:\n  - name: role\n    value: web\n  - name: role\n    value: edge\nconfigs:\n  - nginx-access\n  - container-stdout\n");
  await page.locator(".validation-ok").waitFor();
  await page.getByLabel("Commit message").fill("web group: edge nodes too, with stdout");
  await page.getByRole("button", { name: "Commit" }).click();
  await page.getByText(/^Committed: the server now serves/).waitFor();
  t.is(count(), before + 1);
  t.is(git(repo, "log", "-1", "--format=%s").trim(), "web group: edge nodes too, with stdout");
  const web = await groupOf(server.url, "web");
  t.deepEqual(web && { name: web.name, description: web.description, tags: web.tags, configs: web.configs, instanceConfigs: web.instanceConfigs }, { name: "web", description: "web and edge", tags: [{ name: "role", value: "web" }, { name: "role", value: "edge" }], configs: ["container-stdout", "nginx-access"], instanceConfigs: [] });

  await page.goto(`${server.url}/ui/#/groups/web`);
  await page.getByRole("button", { name: "remove container-stdout" }).click();
  await page.getByText("Removed container-stdout: one commit.").waitFor();
  t.is(count(), before + 2);
  await page.getByLabel("Apply a config").selectOption("java-app");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByText("Applied java-app: one commit.").waitFor();
  t.is(count(), before + 3);
  t.deepEqual((await groupOf(server.url, "web"))?.configs, ["java-app", "nginx-access"]);
  t.deepEqual(errors, []);
});
