// The container image, built and run as CI runs it here (Debian's podman, rootful, runc): from
// base images made of Debian packages (no registry is reachable), with `make image`, run with the
// arguments, settings, user and read-only root the Kubernetes Deployment gives it
// (deploy/kubernetes/base, rendered by kubectl kustomize), a volume at /data and the token file
// mounted. /healthz and /readyz answer, the repository is created from the template in the volume
// and owned by the image's user, a v2 agent receives its configs, the HEALTHCHECK passes, and
// `podman stop` (SIGTERM, then SIGKILL after the shutdown timeout) ends it with exit status 0.
// With a remote, the image clones it instead and pushes a write back with its own git.
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test, { type ExecutionContext } from "ava";
import { send } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { argSeconds, containerEnv, render, serverPod } from "./helpers/kustomize.ts";
import { debianBase, mustPodman, mustRun, podman } from "./helpers/podman.ts";
import { bareRemote, configYaml, groupYaml } from "./helpers/repo.ts";
import { waitFor } from "./helpers/server.ts";
import { V2Agent } from "./helpers/v2Agent.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const HOST_CA = "/etc/ssl/certs/ca-certificates.crt";
let image = "";

const seconds = (fromMs: number) => `${((Date.now() - fromMs) / 1000).toFixed(1)} s`;

test.before("the image builds with make image on bases made from Debian packages", async (t) => {
  t.timeout(15 * 60_000, "mmdebstrap, npm ci and the build on a cold machine");
  // The image the Deployment runs (configserver:<version>, what `make image` tags by default).
  image = serverPod(await render("base")).container.image;
  let start = Date.now();
  const [runtime, build] = [await debianBase("runtime"), await debianBase("build")];
  t.log(`base images ${runtime.name}, ${build.name}: ${runtime.made || build.made ? "made with mmdebstrap" : "found in podman's store"} in ${seconds(start)}`);
  start = Date.now();
  // npm inside the build trusts the host's CA bundle (a build secret: it reaches no layer).
  await mustRun("make", ["-s", "image", `IMAGE=${image}`, `BASE_IMAGE=${runtime.name}`, `BUILD_IMAGE=${build.name}`, `NPM_CA=${HOST_CA}`], { cwd: root, timeoutMs: 12 * 60_000 });
  const size = Number((await mustPodman("image", "inspect", "--format", "{{.Size}}", image)).stdout.trim());
  t.log(`make image: ${image}, ${(size / 1e6).toFixed(0)} MB, built in ${seconds(start)}`);
});

test("docker ignores what podman ignores", (t) => {
  const rules = (file: string) => readFileSync(join(root, file), "utf8").split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
  t.deepEqual(rules(".dockerignore"), rules(".containerignore"));
  t.true(rules(".containerignore").includes("node_modules"));
});

/** Every file and folder under `dir`, with its owner. */
function owners(dir: string): { path: string; uid: number; gid: number }[] {
  const out: { path: string; uid: number; gid: number }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    out.push({ path, uid: st.uid, gid: st.gid });
    if (st.isDirectory()) out.push(...owners(path));
  }
  return out;
}

/** git on the host, in folders the container's user owns. */
const hostGit = (dir: string, ...args: string[]) => git(dir, "-c", "safe.directory=*", ...args);

interface Running {
  readonly id: string;
  readonly url: string;
  readonly logs: () => Promise<string>;
  readonly userToken: string;
  readonly user: string;
  readonly shutdownSeconds: number;
}

let containers = 0;

/** The container's published address, once `path` answers 200 there. */
async function ready(t: ExecutionContext, id: string, path: string, logs: () => Promise<string>): Promise<string> {
  const published = (await mustPodman("port", id, "8899/tcp")).stdout.trim().split("\n")[0] ?? "";
  const url = `http://${published}`;
  t.regex(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  try {
    await waitFor(async () => (await send(url, "GET", path, "").catch(() => undefined))?.status === 200, { timeoutMs: 60_000, intervalMs: 200 });
  } catch (e) {
    t.log(await logs());
    throw e;
  }
  return url;
}

/**
 * Runs the image as the base Deployment runs it: its arguments, its ConfigMap's and literal env,
 * its user, read-only root and dropped capabilities, `data` at /data (`:U`, as the fsGroup does),
 * the Secret's files read-only at /etc/configserver/secrets, on a published loopback port; and
 * waits for the readiness probe's path to answer 200.
 */
async function runAsDeployment(t: ExecutionContext, data: string, extra: { env?: Record<string, string>; volumes?: string[] } = {}): Promise<Running> {
  const objects = await render("base");
  const { pod, container } = serverPod(objects);
  const args = container.args ?? [];
  const env = { ...containerEnv(objects, container), ...extra.env };
  const user = `${pod.securityContext?.runAsUser}:${pod.securityContext?.runAsGroup}`;
  t.is((await mustPodman("image", "inspect", "--format", "{{.Config.User}}", image)).stdout.trim(), user, "the image's user is the one the Deployment runs as");

  const secrets = tempDir("cs-secrets-");
  t.teardown(() => rmSync(secrets, { recursive: true, force: true }));
  chmodSync(secrets, 0o755); // as Kubernetes mounts a Secret: readable, not writable, by the pod's user
  const userToken = "container-test-user-token";
  t.truthy(container.volumeMounts?.find((m) => m.mountPath === "/etc/configserver/secrets" && m.readOnly));
  for (const [name, path] of Object.entries(env).filter(([k]) => k.endsWith("_FILE"))) {
    t.true(path.startsWith("/etc/configserver/secrets/"), `${name} is in the mounted Secret`);
    const file = join(secrets, path.slice("/etc/configserver/secrets/".length));
    writeFileSync(file, name === "CONFIGSERVER_USER_TOKEN_FILE" ? `${userToken}\n` : "a-secret\n");
    chmodSync(file, 0o444);
  }

  const started = await mustPodman("run", "-d", "--name", `configserver-test-${process.pid}-${++containers}`,
    "--user", user, ...(container.securityContext?.readOnlyRootFilesystem ? ["--read-only"] : []),
    "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
    "-v", `${data}:/data:U`, "-v", `${secrets}:/etc/configserver/secrets:ro`, ...(extra.volumes ?? []).flatMap((v) => ["-v", v]),
    "-p", "127.0.0.1::8899",
    ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    image, ...args);
  const id = started.stdout.trim();
  t.teardown(async () => {
    await podman("rm", "-f", "-t", "0", id);
  });
  const logs = async () => {
    const r = await podman("logs", id);
    return r.stdout + r.stderr;
  };
  const url = await ready(t, id, container.readinessProbe?.httpGet?.path ?? "/readyz", logs);
  return { id, url, logs, userToken, user, shutdownSeconds: argSeconds(args, "--shutdown-timeout") };
}

/** `podman stop` with the server's own shutdown timeout: SIGTERM through tini, then SIGKILL (exit status 137) if it still runs. */
async function stopCleanly(t: ExecutionContext, c: Running): Promise<void> {
  await mustPodman("stop", "-t", String(c.shutdownSeconds), c.id);
  const state = JSON.parse((await mustPodman("inspect", "--format", "{{json .State}}", c.id)).stdout) as { Status: string; ExitCode: number };
  t.is(state.Status, "exited");
  t.is(state.ExitCode, 0, "the server exited by itself, with status 0");
  const stopped = await c.logs();
  t.regex(stopped, /"signal":"SIGTERM".*shutting down/);
  t.regex(stopped, /"msg":"stopped"/);
  t.notRegex(stopped, /did not finish in time|exiting now/);
}

function workDir(t: ExecutionContext): string {
  const work = tempDir("cs-container-");
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  mkdirSync(join(work, "data"));
  return work;
}

test.serial("the image serves a new repository from its volume to a v2 agent, as the Deployment runs it, and stops cleanly on SIGTERM", async (t) => {
  t.timeout(5 * 60_000);
  const data = join(workDir(t), "data");
  const c = await runAsDeployment(t, data);
  const { container } = serverPod(await render("base"));
  const get = (path: string, headers: Record<string, string> = {}) => send(c.url, "GET", path, "", headers).catch(() => undefined);
  t.is((await get(container.livenessProbe?.httpGet?.path ?? "/healthz"))?.status, 200);
  t.is((await get("/healthz"))?.status, 200);
  t.is((await mustPodman("healthcheck", "run", c.id)).code, 0, "the image's HEALTHCHECK passes");

  // The token from the mounted file guards the User API.
  t.is((await get("/status"))?.status, 401);
  t.is((await get("/status", { authorization: `Bearer ${c.userToken}` }))?.status, 200);

  // The repository: created from the template in the volume, owned by the image's user.
  const repo = join(data, "repo");
  const entries = owners(data);
  t.true(entries.some((e) => e.path === join(repo, "configs", "container-stdout.yaml")), "the template's configs are in the volume");
  const [uid, gid] = c.user.split(":").map(Number);
  t.deepEqual(entries.filter((e) => e.uid !== uid || e.gid !== gid).map((e) => e.path), [], "everything in the volume belongs to the image's user");
  t.is(hostGit(repo, "log", "--format=%s").trim().split("\n").length, 1, "one commit: the template");

  // A LoongCollector agent on a Kubernetes node (the template's group k8s-nodes selects platform=kubernetes).
  const agent = new V2Agent(c.url, "node-1", { platform: "kubernetes" });
  t.teardown(() => agent.cleanup());
  const first = await agent.cycle();
  t.is(first.status, 200);
  t.deepEqual(first.pipelineUpdates.map((u) => u.name), ["container-stdout"]);
  t.deepEqual(first.instanceUpdates.map((u) => u.name), ["node-send-limit"]);
  t.deepEqual(agent.files(), { pipelines: ["container-stdout"], instances: ["node-send-limit"] });
  t.true((agent.pipelineFile("container-stdout").version as number) >= 1);
  agent.load();
  const second = await agent.cycle();
  t.deepEqual(second.pipelineUpdates, [], "nothing new for an agent that holds the served version");

  await stopCleanly(t, c);

  // Started again on the same volume: the repository is served as it is (no second template commit).
  await mustPodman("start", c.id);
  agent.pointAt(await ready(t, c.id, "/readyz", c.logs));
  const afterRestart = await agent.cycle();
  t.is(afterRestart.status, 200);
  t.deepEqual(afterRestart.pipelineUpdates, [], "the same commit and versions after a restart");
  t.is(hostGit(repo, "log", "--format=%s").trim().split("\n").length, 1);
  await stopCleanly(t, c);
});

test.serial("with a remote, the image clones it into the volume instead of the template, and pushes a write with its git", async (t) => {
  t.timeout(5 * 60_000);
  const data = join(workDir(t), "data");
  const { bare } = bareRemote({
    "configs/app.yaml": configYaml("app", '{"inputs":[{"Type":"input_file","FilePaths":["/var/log/app.log"]}]}'),
    "agent_groups/nodes.yaml": groupYaml("nodes", ["app"], [["platform", "kubernetes"]]),
  });
  t.teardown(() => rmSync(bare, { recursive: true, force: true }));
  const c = await runAsDeployment(t, data, { env: { CONFIGSERVER_REMOTE: "/remote.git" }, volumes: [`${bare}:/remote.git:U`] });

  const repo = join(data, "repo");
  t.false(owners(data).some((e) => e.path === join(repo, "configs", "container-stdout.yaml")), "no template");
  t.is(hostGit(repo, "remote", "get-url", "origin").trim(), "/remote.git");
  const agent = new V2Agent(c.url, "node-2", { platform: "kubernetes" });
  t.teardown(() => agent.cleanup());
  t.deepEqual((await agent.cycle()).pipelineUpdates.map((u) => u.name), ["app"]);

  const created = await send(c.url, "POST", "/User/CreateConfig", JSON.stringify({ configDetail: { configName: "web", agentType: "LoongCollector", content: '{"inputs":[]}' } }),
    { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${c.userToken}` });
  t.is(created.status, 200, Buffer.from(created.body).toString());
  t.true(hostGit(bare, "ls-tree", "--name-only", "main", "configs/").split("\n").includes("configs/web.yaml"), "the write is on the remote");
  await stopCleanly(t, c);
});
