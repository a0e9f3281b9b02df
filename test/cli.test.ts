import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test, { type ExecutionContext } from "ava";
import { builtBin } from "./helpers/bin.ts";
import { client } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { waitFor } from "./helpers/server.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

// Settings from the developer's shell must not leak into the child.
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CONFIGSERVER_")));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts a command in its own process group and registers its teardown at once: the whole group
 * (make → bin/configserver → node) is stopped whatever the test's outcome.
 */
function start(t: ExecutionContext, command: string, args: string[], env: Record<string, string | undefined> = {}): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { cwd: root, env: { ...childEnv, ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  t.teardown(async () => {
    const group = child.pid;
    if (group === undefined) return;
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-group, s);
      } catch {
        // Already gone.
      }
    };
    signal("SIGTERM");
    const killed = setTimeout(() => signal("SIGKILL"), 10_000);
    await exited;
    clearTimeout(killed);
    // Children the leader left behind, if any.
    signal("SIGKILL");
  });
  return { child, output: () => output };
}

/** Waits until ListAgentGroups answers 200 on the port; fails early if the process exits. */
async function waitUntilServing(t: ExecutionContext, port: number, proc: { child: ChildProcess; output: () => string }): Promise<string[]> {
  const api = client(`http://127.0.0.1:${port}`);
  try {
    return await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`exited with ${proc.child.exitCode}`);
        const res = await api.listGroups({ request_id: "cli" }).catch(() => undefined);
        return res?.status === 200 && res.body.code === "Accept" && res.body.response_id === "cli" ? res.body.agent_groups.map((g) => g.group_name ?? "") : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 100 },
    );
  } catch (e) {
    t.log(proc.output());
    throw e;
  }
}

test("bin/configserver init, then serve, answers the protocol on 127.0.0.1", async (t) => {
  const dir = tempDir("cs-cli-");
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const repo = join(dir, "repo");
  const bin = builtBin();
  const init = spawnSync(bin, ["init", repo], { cwd: root, env: childEnv, encoding: "utf8" });
  t.is(init.status, 0, init.stderr);
  t.is(git(repo, "status", "--porcelain"), "");
  t.is(git(repo, "rev-list", "--count", "HEAD").trim(), "1");
  // init refuses a directory that is not empty.
  const again = spawnSync(bin, ["init", repo], { cwd: root, env: childEnv, encoding: "utf8" });
  t.not(again.status, 0);

  const port = await freePort();
  const proc = start(t, bin, ["serve", "--repo", repo, "--host", "127.0.0.1", "--port", String(port), "--log-level", "warn"]);
  const groups = await waitUntilServing(t, port, proc);
  t.true(groups.includes("default"), groups.join());

  // The template's configs are served, and a write through the CLI's server becomes a commit.
  const api = client(`http://127.0.0.1:${port}`);
  t.true((await api.listConfigs()).body.config_details.length > 0);
  t.is((await api.createConfig({ config_detail: { config_name: "from-cli-test", content: "x\n" } })).body.code, "Accept");
  t.is(git(repo, "rev-list", "--count", "HEAD").trim(), "2");
});

test("make run with PORT and REPO creates the repository and serves it", async (t) => {
  const dir = tempDir("cs-make-");
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const repo = join(dir, "config-repo");
  const port = await freePort();
  // -o: treat the install and build steps as done. The suite runs after `make install`; a test must
  // never run `npm ci` or rebuild dist/ under the feet of the other test processes sharing them.
  const proc = start(t, "make", ["--no-print-directory", "-o", "node_modules/.installed", "-o", "src/gen/proto.js", "-o", "dist/cli.js", "run", `PORT=${port}`, `REPO=${repo}`]);
  const groups = await waitUntilServing(t, port, proc);
  t.true(groups.includes("default"), groups.join());
  t.is(git(repo, "rev-parse", "--abbrev-ref", "HEAD").trim(), "main");
  t.is(git(repo, "status", "--porcelain"), "");
});
