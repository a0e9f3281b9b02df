import { join } from "node:path";
import type { ExecutionContext } from "ava";
import { client, type Client } from "./client.ts";
import { personEnv, tempDir } from "./git.ts";
import { serveProcess, type ServeProcess } from "./serveProcess.ts";

export interface Replica {
  readonly name: string;
  readonly url: string;
  readonly api: Client;
  readonly proc: ServeProcess;
}

/**
 * `n` real `configserver serve` processes, each with its own clone of one remote and all on one
 * Redis, polling the remote only every 10 minutes (so anything faster is the fan-out). Stopped
 * (SIGKILL: nothing to wait for) when the test ends.
 */
export async function startReplicas(t: ExecutionContext, remote: string, redisUrl: string, n = 3, extra: readonly string[] = []): Promise<Replica[]> {
  const procs = Array.from({ length: n }, () =>
    serveProcess(
      ["--repo", join(tempDir("cs-replica-"), "repo"), "--port", "0", "--remote", remote, "--sync-interval", "10m", "--registry", redisUrl, "--agent-ttl", "10m", "--log-level", "info", ...extra],
      // The replicas' git reads no global or system configuration of this machine.
      { GIT_CONFIG_NOSYSTEM: personEnv.GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL: "/dev/null" },
    ),
  );
  t.teardown(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited));
  });
  const urls = await Promise.all(procs.map((p) => p.url()));
  return procs.map((proc, i) => ({ name: "ABCDEFGH"[i] as string, url: urls[i] as string, api: client(urls[i] as string), proc }));
}

export async function getJson<T = Record<string, unknown>>(url: string): Promise<{ status: number; body: T }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as T };
}

/** A replica picked at random (from `random`, a seeded source: test/helpers/seeded.ts) for each request, as a load balancer without affinity would. */
export const pick = <T>(xs: readonly T[], random: () => number): T => xs[Math.floor(random() * xs.length)] as T;
