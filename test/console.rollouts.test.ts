// The console's Rollouts page in a real headless Chromium, against the real server on a real git
// repository with replicated v2 agents: a rollout in progress is shown (on the config page too),
// and pause, resume and abort pressed in the page change its state, recorded with who pressed them.
import test from "ava";
import type { Browser } from "playwright-core";
import { launchBrowser, openConsole, screenshots } from "./helpers/browser.ts";
import { callJson, send } from "./helpers/client.ts";
import { Fleet } from "./helpers/fleet.ts";
import { git } from "./helpers/git.ts";
import { commitFiles, configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";

let browser: Browser;
test.before(async () => {
  browser = await launchBrowser();
});
test.after.always(() => browser?.close());

const TOKEN = "console-rollouts-token-7781";
// A long bake: the rollout stays at wave 1 while the page is used.
const POLICY = "waves: [2, 6, 100%]\nbake: 1h\napplyTimeout: 1h\nonHalt: revert\n";

interface RolloutJson { state: string; wave: number; waves: { applied: number }[]; revertCommit: string | null; history: { who: string; action: string }[] }

test.serial("the Rollouts page shows a rollout in progress; pause, resume and abort change its state and are recorded with who pressed them", async (t) => {
  const repo = repoWith("cs-console-rollouts-", { "rollout.yaml": POLICY, "configs/app.yaml": configYaml("app", "a: 1\n"), "agent_groups/default.yaml": groupYaml("default", ["app"]) });
  const server = await withServer(t, { repo, userToken: TOKEN });
  const fleet = new Fleet(server.url, 12, 0, 0);
  t.teardown(() => fleet.cleanup());
  await fleet.until("app", () => fleet.agents.every((a) => fleet.held(a, "app") > 0));
  commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 2\n") });
  const api = async () => JSON.parse((await send(server.url, "GET", "/api/v1/rollouts/app", "", { authorization: `Bearer ${TOKEN}` })).body.toString()) as RolloutJson;
  // Wave 1's two agents apply (and report it); the others are sent nothing while the rollout bakes.
  await fleet.until("app", async () => (await api()).waves?.[0]?.applied === 2);
  t.is(fleet.agents.filter((a) => fleet.held(a, "app") === 2).length, 2);

  const { page, errors } = await openConsole(t, browser, `${server.url}/ui/#/configs/app`);
  await page.locator("dialog[open]").getByLabel("User token").fill(TOKEN);
  await page.locator("dialog[open]").getByRole("button", { name: "Sign in" }).click();
  // The config page says a rollout is in progress and links to the Rollouts page.
  const panel = page.locator(".rollout-panel");
  await panel.waitFor();
  t.regex((await panel.textContent()) ?? "", /Rollout progressing: version 1 → version 2, wave 1 of 3/);
  await panel.getByRole("link", { name: "Open on the Rollouts page" }).click();

  const run = page.locator(".rollout-run[data-config=app]");
  await run.locator(".badge", { hasText: "progressing" }).waitFor();
  t.regex((await run.locator("h2").textContent()) ?? "", /app\s*version 1 → version 2\s*progressing/);
  t.is(await run.locator(".wave").count(), 3, "three waves in the bar");
  await run.locator("table tbody tr.current td", { hasText: "2" }).first().waitFor();
  const wave1 = await run.locator("table tbody tr").first().locator("td").allTextContents();
  t.deepEqual(wave1.slice(0, 4), ["1", "2", "2", "2"], "wave 1: selects 2, 2 targeted, 2 applied");
  await page.getByLabel("Your name").fill("Ada Operator");
  await page.getByLabel("Your email").fill("ada@example.com");
  await screenshots(page, "rollouts");

  const press = async (label: string, state: string) => {
    await run.getByRole("button", { name: label, exact: true }).click();
    await run.locator(".badge", { hasText: state }).waitFor();
    await waitFor(async () => (await api()).state === state);
  };
  await press("Pause", "paused");
  t.true(await run.getByRole("button", { name: "Pause", exact: true }).isDisabled(), "a paused rollout cannot be paused again");
  await press("Resume", "progressing");
  await press("Abort", "reverted");

  const r = await api();
  const who = "Ada Operator <ada@example.com>";
  t.deepEqual(r.history.filter((e) => ["pause", "resume", "abort"].includes(e.action)).map((e) => [e.action, e.who]), [["pause", who], ["resume", who], ["abort", who]]);
  t.truthy(r.revertCommit);
  t.is(r.revertCommit, git(repo, "rev-parse", "HEAD").trim(), "the abort made the revert commit");
  // The page shows who did what, and links the revert commit to its diff in the config's history.
  await run.locator("summary").click();
  const history = (await run.locator(".rollout-history tbody").textContent()) ?? "";
  for (const action of ["pause", "resume", "abort"]) t.regex(history, new RegExp(`Ada Operator <ada@example\\.com>${action}`));
  t.is(await run.getByRole("button", { name: "Resume", exact: true }).count(), 0, "a reverted rollout has no actions");
  await run.locator(".revert-commit a").click();
  await page.locator("tr.diff-row").waitFor();
  t.regex(page.url(), new RegExp(`#/configs/app\\?diff=${r.revertCommit}`));
  t.deepEqual(errors, []);
});

test.serial("an action the rollout's state refuses shows the server's message", async (t) => {
  const repo = repoWith("cs-console-rollouts-", { "rollout.yaml": POLICY, "configs/app.yaml": configYaml("app", "a: 1\n"), "agent_groups/default.yaml": groupYaml("default", ["app"]) });
  const server = await withServer(t, { repo });
  const fleet = new Fleet(server.url, 4, 0, 0);
  t.teardown(() => fleet.cleanup());
  await fleet.until("app", () => fleet.agents.every((a) => fleet.held(a, "app") > 0));
  commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 2\n") });
  await waitFor(async () => ((await callJson(server.url, "GET", "/api/v1/rollouts/app")).body as { state?: string }).state === "progressing");

  const { page } = await openConsole(t, browser, `${server.url}/ui/#/rollouts`);
  const run = page.locator(".rollout-run[data-config=app]");
  await run.locator(".badge", { hasText: "progressing" }).waitFor();
  // Someone else pauses it meanwhile: the page still offers Pause until its next poll.
  const paused = await callJson(server.url, "POST", "/api/v1/rollouts/app/pause", {});
  t.is(paused.status, 200);
  await run.getByRole("button", { name: "Pause", exact: true }).click();
  const alert = run.locator("p.error[role=alert]");
  await alert.waitFor();
  t.is(await alert.textContent(), "Cannot pause the rollout of config app: it is paused (only a progressing rollout can be paused).");
});
