// Issue 23 (9 and the workers' socket of 13): who may be an agent. --agent-networks refuses
// other source addresses (403 in the protocol's envelope) before reading their body; a server
// whose agent routes other machines can reach, with neither an agent token nor networks, warns
// at start; the --workers channel is a socket file in a private folder, not an abstract socket.
import { existsSync, statSync } from "node:fs";
import test from "ava";
import { parseIpSelector, type IpSelector } from "../src/domain/addressMatch.ts";
import { pb, send } from "./helpers/client.ts";
import { personEnv } from "./helpers/git.ts";
import { configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { serveProcess } from "./helpers/serveProcess.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { v2 } from "./helpers/v2Agent.ts";

const repo = () => repoWith("cs-admission-", {
  "configs/c1.yaml": configYaml("c1", "inputs: [one]\n"),
  "agent_groups/prod.yaml": groupYaml("prod", ["c1"], [["env", "prod"]]),
});
const networks = (...cidrs: string[]) => cidrs.map((c) => parseIpSelector(c) as IpSelector);
const alphaBeat = pb.HeartBeatRequest.encode({ request_id: "hb", agent_id: "a1", tags: { env: "prod" } }).finish();
const v2Beat = v2.HeartbeatRequest.encode({ request_id: Buffer.from("r"), sequence_num: 1 as never, capabilities: 3 as never, instance_id: Buffer.from("v2-1") }).finish();
const gitEnv = { GIT_CONFIG_NOSYSTEM: personEnv.GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL: "/dev/null" };

test("--agent-networks 10.0.0.0/8: requests from 127.0.0.1 are refused 403 in each protocol's envelope, before the body is read", async (t) => {
  const s = await withServer(t, { repo: repo(), agentNetworks: networks("10.0.0.0/8") });
  const alpha = await send(s.url, "POST", "/Agent/HeartBeat", alphaBeat);
  t.is(alpha.status, 403);
  t.like(pb.HeartBeatResponse.decode(alpha.body), { code: "Forbidden", message: "Agents are accepted only from the networks of --agent-networks; 127.0.0.1 is not in them." });
  const v2Answer = await send(s.url, "POST", "/Agent/Heartbeat", v2Beat);
  t.is(v2Answer.status, 403);
  t.is(v2.HeartbeatResponse.decode(v2Answer.body).common_response?.status, 403);
  // Before the body: a body over the limit is refused 403, not 413.
  t.is((await send(s.url, "POST", "/Agent/HeartBeat", Buffer.alloc(200 * 1024, 1))).status, 403);
  // Other spellings (through koa) and OpAMP too.
  t.is((await send(s.url, "POST", "/Agent/HeartBeat?x=1", alphaBeat)).status, 403);
  t.is((await send(s.url, "POST", "/v1/opamp", Buffer.alloc(0), { "content-type": "application/x-protobuf" })).status, 403);
  t.is(s.registry.size, 0);
  // Not the agent routes: the User API and health answer.
  t.is((await send(s.url, "GET", "/healthz", "")).status, 200);
  t.is((await send(s.url, "POST", "/User/ListConfigs", pb.ListConfigsRequest.encode({ request_id: "l" }).finish())).status, 200);
});

test("--agent-networks 127.0.0.0/8 (and a list with it) lets loopback agents in", async (t) => {
  const s = await withServer(t, { repo: repo(), agentNetworks: networks("10.0.0.0/8", "127.0.0.0/8") });
  t.is((await send(s.url, "POST", "/Agent/HeartBeat", alphaBeat)).status, 200);
  t.is((await send(s.url, "POST", "/Agent/Heartbeat", v2Beat)).status, 200);
  t.is(s.registry.size, 2);
});

test("the settings file takes agent-networks as a list; a bad network is refused at start naming it", async (t) => {
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "cs-admission-settings-"));
  writeFileSync(join(dir, "settings.yaml"), "agent-networks:\n  - 10.0.0.0/8\n  - 127.0.0.1\n");
  const ok = serveProcess(["--repo", repo(), "--port", "0", "--config", join(dir, "settings.yaml")], gitEnv);
  t.teardown(() => void ok.child.kill("SIGKILL"));
  const url = await ok.url();
  t.is((await send(url, "POST", "/Agent/HeartBeat", alphaBeat)).status, 200);
  const bad = serveProcess(["--repo", repo(), "--port", "0", "--agent-networks", "10.0.0.0/33"], gitEnv);
  t.teardown(() => void bad.child.kill("SIGKILL"));
  t.not(await bad.exited, 0);
  t.regex(bad.stderr(), /--agent-networks: "10\.0\.0\.0\/33" has .*prefix length is 0 to 32/);
});

const AGENTS_OPEN = /agent routes are reachable on a non-loopback address with neither an agent token nor agent networks/;

test("a start-up warning when agent routes are reachable beyond loopback with neither an agent token nor networks", async (t) => {
  // The warnings of the start, once the user-token one (logged just before, in every case here) is in.
  const start = async (args: string[]) => {
    const p = serveProcess(["--repo", repo(), "--port", "0", "--host", "0.0.0.0", "--log-level", "debug", ...args], gitEnv);
    t.teardown(() => void p.child.kill("SIGKILL"));
    await p.url();
    await waitFor(() => p.logs.some((l) => String(l.msg).startsWith("listening on a non-loopback address without a user token")));
    return p;
  };
  const open = await start([]);
  const line = await waitFor(() => open.logs.find((l) => AGENTS_OPEN.test(String(l.msg))));
  t.is(line.level, 40);
  t.is(line.host, "0.0.0.0");
  for (const guarded of [["--agent-networks", "10.0.0.0/8"], ["--agent-token", "s3cret"]]) {
    const p = await start(guarded);
    // A request logged (at debug) after the start's lines: what the start warned is all in.
    const before = p.logs.length;
    await send(await p.url(), "POST", "/Agent/HeartBeat", alphaBeat, guarded[0] === "--agent-token" ? { authorization: "Bearer s3cret" } : {});
    await waitFor(() => p.logs.slice(before).some((l) => l.level === 20 && JSON.stringify(l).includes("/Agent/HeartBeat")));
    t.false(p.logs.some((l) => AGENTS_OPEN.test(String(l.msg))), guarded.join(" "));
  }
});

test("--workers 2: the primary's channel is a socket file in a private (0700) folder, removed when it stops", async (t) => {
  const p = serveProcess(["--repo", repo(), "--port", "0", "--workers", "2", "--log-level", "debug"], gitEnv);
  t.teardown(() => void p.child.kill("SIGKILL"));
  await p.url();
  const line = await waitFor(() => p.logs.find((l) => l.msg === "primary listening for its workers"));
  const socket = String(line.socket);
  t.false(socket.startsWith("\0"), `not an abstract socket: ${JSON.stringify(socket)}`);
  t.true(statSync(socket).isSocket());
  const folder = socket.slice(0, socket.lastIndexOf("/"));
  t.is(statSync(folder).mode & 0o777, 0o700);
  // The workers answer through it (a User API request is handed to the primary).
  t.is((await send(await p.url(), "POST", "/User/ListConfigs", pb.ListConfigsRequest.encode({ request_id: "l" }).finish())).status, 200);
  p.child.kill("SIGTERM");
  t.is(await p.exited, 0);
  t.false(existsSync(folder), "removed on stop");
});
