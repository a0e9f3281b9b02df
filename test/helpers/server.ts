import { rmSync } from "node:fs";
import type { ExecutionContext } from "ava";
import pino from "pino";
import { startServer, type RunningServer, type ServerOptions } from "../../src/server.ts";
import { client, type Client } from "./client.ts";
import { tempDir } from "./git.ts";

export interface TestServer extends RunningServer {
  readonly repo: string;
  readonly api: Client;
}

/** Starts the real server on port 0 with a fresh temporary repository; stops it when the test ends. */
export async function withServer(t: ExecutionContext, options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const repo = options.repo ?? tempDir("cs-repo-");
  const server = await startServer({ port: 0, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }), ...options, repo });
  t.teardown(async () => {
    await server.close();
    if (!options.repo) rmSync(repo, { recursive: true, force: true });
  });
  return { ...server, repo, api: client(server.url) };
}

/** Polls until `check` returns a truthy value (no fixed sleeps in tests). */
export async function waitFor<T>(check: () => T | Promise<T>, { timeoutMs = 30_000, intervalMs = 20 } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
