import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import type { ExecutionContext } from "ava";
import { Redis } from "ioredis";

/** A free TCP port on 127.0.0.1 (the OS picks one; it is closed again before use). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** Stops the server (its data is gone: no persistence). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** A client for looking at what the server holds. */
  client(): Redis;
}

/**
 * Debian's redis-server on a free port, without persistence, stopped when the test ends. Never a
 * system service: every test file gets its own server.
 */
export async function startRedis(t: ExecutionContext): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const clients: Redis[] = [];
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const c = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
      child = c;
      let out = "";
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on ${port}: ${out}`)), 10_000);
      c.once("error", (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot run redis-server (make test installs Debian's redis-server): ${e.message}`));
      });
      c.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
        out += chunk;
        if (out.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.once("exit", (code) => {
        clearTimeout(timer);
        if (!out.includes("Ready to accept connections")) reject(new Error(`redis-server exited (${code}): ${out}`));
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once("exit", () => resolve());
      c.kill("SIGKILL");
    });
  await start();
  t.teardown(async () => {
    for (const c of clients) c.disconnect();
    await stop();
  });
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    stop,
    start,
    client: () => {
      const c = new Redis(`redis://127.0.0.1:${port}/0`, { lazyConnect: false, maxRetriesPerRequest: 1 });
      c.on("error", () => undefined);
      clients.push(c);
      return c;
    },
  };
}
