// Who may use the console, in a real headless Chromium: with a user token it asks for one, keeps
// it in the tab and sends it as a bearer header only; a read-only server's editors are disabled.
import { rmSync } from "node:fs";
import test from "ava";
import type { Browser } from "playwright-core";
import { launchBrowser, openConsole, screenshots, templateRepo } from "./helpers/browser.ts";
import { git } from "./helpers/git.ts";
import { withServer } from "./helpers/server.ts";

let browser: Browser;
test.before(async () => {
  browser = await launchBrowser();
});
test.after.always(() => browser?.close());

function repo(t: Parameters<typeof withServer>[0]): string {
  const dir = templateRepo();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test.serial("with a user token the console asks for it, works after login, and sends it only as a bearer header", async (t) => {
  const dir = repo(t);
  const token = "s3cret-token-for-the-console";
  const server = await withServer(t, { repo: dir, userToken: token });
  const { page, errors, requests } = await openConsole(t, browser, `${server.url}/ui/`);
  const dialog = page.locator("dialog[open]");
  await dialog.waitFor();
  t.regex((await dialog.textContent()) ?? "", /requires a user token/);
  await screenshots(page, "login");
  t.is(await page.locator(".served-commit").count(), 0, "nothing is shown without the token");

  await dialog.getByLabel("User token").fill("wrong");
  await dialog.getByRole("button", { name: "Sign in" }).click();
  await page.locator("dialog[open]", { hasText: "token in the Authorization header is wrong" }).waitFor();

  await page.locator("dialog[open]").getByLabel("User token").fill(token);
  await page.locator("dialog[open]").getByRole("button", { name: "Sign in" }).click();
  await page.locator(".served-commit code", { hasText: git(dir, "rev-parse", "HEAD").trim().slice(0, 10) }).waitFor();
  t.is(await page.locator("dialog[open]").count(), 0);
  t.is(await page.evaluate('sessionStorage.getItem("configserver.userToken")'), token);
  t.is(await page.evaluate("localStorage.length"), 0, "the token is not kept beyond the tab");
  // Other pages work with it too.
  await page.goto(`${server.url}/ui/#/configs`);
  await page.locator("table[aria-label=configs] tbody tr", { hasText: "nginx-access" }).waitFor();

  const api = requests.filter((r) => new URL(r.url).pathname.match(/^\/(api|status)/));
  t.true(api.some((r) => r.authorization === `Bearer ${token}`));
  t.true(requests.every((r) => !r.url.includes(token)), "the token never appears in a URL");
  t.deepEqual(errors, []);
});

test.serial("in read-only mode the editors are disabled and the page says to open a pull request", async (t) => {
  const dir = repo(t);
  const server = await withServer(t, { repo: dir, readOnly: true });
  const before = git(dir, "rev-parse", "HEAD").trim();
  const { page, errors } = await openConsole(t, browser, `${server.url}/ui/#/edit/config/nginx-access`);
  const editor = page.getByLabel("config file");
  await page.locator(".read-only-notice").waitFor();
  t.regex((await page.locator(".read-only-notice").textContent()) ?? "", /read-only.*pull request/);
  t.true(await editor.evaluate((e) => (e as unknown as { readOnly: boolean }).readOnly));
  t.true(await page.getByRole("button", { name: "Commit" }).isDisabled());
  t.true(await page.getByLabel("Commit message").isDisabled());
  await screenshots(page, "edit-read-only");

  await page.goto(`${server.url}/ui/#/configs/nginx-access`);
  await page.locator("table[aria-label=history] tbody tr").first().waitFor();
  t.is(await page.getByRole("link", { name: "Edit" }).count(), 0);
  await page.goto(`${server.url}/ui/#/groups/web`);
  await page.locator(".applied li").first().waitFor();
  t.true(await page.getByRole("button", { name: "remove nginx-access" }).isDisabled());
  t.true(await page.getByRole("button", { name: "Apply" }).isDisabled());
  t.is(git(dir, "rev-parse", "HEAD").trim(), before);
  t.deepEqual(errors, []);
});

test.serial("with a viewer's token the console reads, and a write shows the server's 403: the role it needs", async (t) => {
  const dir = repo(t);
  const token = "viewer-token-for-the-console";
  const server = await withServer(t, { repo: dir, tokens: [{ name: "wallboard", token, role: "viewer", identity: { name: "Wallboard", email: "wall@example.com" }, setsAuthor: false }] });
  const before = git(dir, "rev-parse", "HEAD").trim();
  const { page, errors } = await openConsole(t, browser, `${server.url}/ui/#/groups/web`);
  const dialog = page.locator("dialog[open]");
  await dialog.waitFor();
  await dialog.getByLabel("User token").fill(token);
  await dialog.getByRole("button", { name: "Sign in" }).click();
  await page.locator(".applied li").first().waitFor();
  // Its writes would be committed as its identity, whatever a person types: the page says so.
  const committedAs = page.locator(".committed-as");
  await committedAs.waitFor();
  t.regex((await committedAs.textContent()) ?? "", /Committed as Wallboard <wall@example\.com>.*wallboard.*viewer/);
  t.is(await page.getByLabel("Author name").count(), 0);
  await page.getByRole("button", { name: "remove nginx-access" }).click();
  const shown = page.getByText(/has the viewer role.*needs the editor role/);
  await shown.waitFor();
  t.regex((await shown.textContent()) ?? "", /wallboard/);
  t.is(git(dir, "rev-parse", "HEAD").trim(), before, "nothing committed");
  t.deepEqual(errors.filter((e) => !/403/.test(e)), []);
});
