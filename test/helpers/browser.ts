import { cpSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ExecutionContext } from "ava";
import { chromium, type Browser, type Page } from "playwright-core";
import { CONSOLE_ASSETS } from "../../src/http/console.ts";
import { git, tempDir } from "./git.ts";

/** Debian's chromium package (`make test` installs it); the drivers' own browser downloads cannot work here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Git-ignored: screenshots are looked at, never committed. */
export const SCREENSHOTS = fileURLToPath(new URL("../../screenshots/", import.meta.url));
const TEMPLATE = fileURLToPath(new URL("../../config-repo-template/", import.meta.url));

// Without the background-networking flags Chromium keeps trying to reach Google's hosts, which
// this machine's closed network refuses; playwright gives every launch a fresh profile directory.
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** One headless Chromium for a whole test file, closed when the file's tests end. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: \`make test\` installs Debian's chromium package (apt-get install chromium)`);
  if (!existsSync(join(CONSOLE_ASSETS, "index.html"))) throw new Error("the web console is not built: run `make install` (or `npm run build:web`)");
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

export interface ConsolePage {
  readonly page: Page;
  /** Script errors and console errors (a Content-Security-Policy refusal is one). */
  readonly errors: string[];
  readonly requests: { url: string; authorization: string | undefined }[];
}

/** A new browser context (its own storage) at 1280×800, recording errors and requests. */
export async function openConsole(t: ExecutionContext, browser: Browser, url: string): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  t.teardown(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  const requests: ConsolePage["requests"] = [];
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/401 \(Unauthorized\)/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  page.on("request", (r) => requests.push({ url: r.url(), authorization: r.headers().authorization }));
  await page.goto(url);
  return { page, errors, requests };
}

/** The page at 1280×800 and at a phone's width, into screenshots/<name>-{wide,narrow}.png. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-wide.png`) });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-narrow.png`) });
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** A repository holding config-repo-template/, committed by a person. */
export function templateRepo(): string {
  const dir = tempDir("cs-console-");
  cpSync(TEMPLATE, dir, { recursive: true });
  git(dir, "init", "-q", "--initial-branch=main");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "Start from the configserver template");
  return dir;
}
