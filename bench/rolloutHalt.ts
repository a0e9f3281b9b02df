// Time from a FAILED report to the halt of a rollout (bench/rollouts.ts, part 2): one real server
// with `waves: [10%, 100%]`, `halt: {failed: 1}`; per run a fresh commit of cfg-0000 starts a
// rollout, one v2 agent of wave 1 heartbeats (and is sent the new version), then reports it FAILED
// in ReportStatus. Timed from the moment that report is answered to the `halted` event in the
// rollout's history (the server's own clock, same machine), and to when polling the API every
// 5 ms first shows it; with onHalt: revert, also to the `reverted` state (the revert commit made).
// Each report is sent at a random moment of the controller's evaluation cycle.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { rolloutBucket } from "../src/domain/rolloutBucket.ts";
import { configserver } from "../src/gen/proto.js";
import { registerFleet, V2_CURRENT_OFFSET } from "./agentFleet.ts";
import { agentId, configName, configYaml, git } from "./fleet.ts";
import { encodeRequests } from "./loadgen.ts";
import { request, type Proc } from "./proc.ts";

const v2 = configserver.proto.v2;
const FAILED = 3;
/** How often the controller evaluates rollouts (its default). */
const EVALUATION_MS = 200;

/** The API view of one rollout, as much of it as the benchmark reads. */
export interface RolloutJson {
  config: string;
  state: string;
  wave: number;
  received: number;
  to: { version: number };
  history: { at: string; action: string }[];
}

export async function getJson<T>(port: number, path: string): Promise<T> {
  const r = await request(port, "GET", path, new Uint8Array());
  if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}: ${r.body.toString()}`);
  return JSON.parse(r.body.toString()) as T;
}

/** Polls `probe` every `everyMs` until it returns something, or fails after `timeoutMs`. */
export async function poll<T>(what: string, probe: () => Promise<T | undefined>, everyMs = 5, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const x = await probe();
    if (x !== undefined) return x;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Writes a new revision of config `i` in `repo` and commits it (as a person merging a change). */
export function commitConfig(repo: string, i: number, rev: number): void {
  writeFileSync(join(repo, "configs", `${configName(i)}.yaml`), configYaml(i, rev));
  git(repo, ["commit", "-q", "-a", "-m", `bench: change ${configName(i)} (revision ${rev})`]);
}

export const haltPolicy = (onHalt: string) => `waves: [10%, 100%]\nbake: 1h\napplyTimeout: 1h\nhalt: {failed: 1}\nonHalt: ${onHalt}\n`;

export interface HaltRun {
  /** Report answered → `halted` in the history (server clock). */
  readonly toHaltMs: number;
  /** Report answered → the API first showed it halted (polled every 5 ms). */
  readonly seenMs: number;
  /** Report answered → `reverted` (revert commit made); onHalt: revert only. */
  readonly revertedMs?: number;
}

/**
 * `runs` halts on a server already serving `repo` (which has haltPolicy), with `agents` v2 agents.
 * `log` is told each run.
 */
export async function measureHalts(server: Proc, repo: string, agents: number, runs: number, revert: boolean, log: (...a: unknown[]) => void): Promise<HaltRun[]> {
  const name = configName(0);
  const versions = await registerFleet(server, agents, 8, undefined, ["v2"]);
  // Wave 1 (10%): the agents whose bucket for cfg-0000 is below 1,000.
  const k = Array.from({ length: agents }, (_, i) => i).find((i) => rolloutBucket(agentId(V2_CURRENT_OFFSET + i), name) < 1000);
  if (k === undefined) throw new Error(`none of ${agents} v2 agents is in wave 1 of ${name}`);
  const id = agentId(V2_CURRENT_OFFSET + k);
  const out: HaltRun[] = [];
  let last = -1;
  for (let run = 0; run < runs; run++) {
    commitConfig(repo, 0, 10_000 + run);
    const r = await poll(`run ${run + 1}: the rollout of ${name} starting`, async () => {
      const x = (await getJson<{ rollouts: RolloutJson[] }>(server.port, "/api/v1/rollouts")).rollouts.find((y) => y.config === name);
      return x && x.state === "progressing" && x.to.version !== last ? x : undefined;
    }, 10);
    last = r.to.version;
    // A random pause first: otherwise each run's report comes at the same moment of the controller's
    // 200 ms evaluation cycle (the previous halt set it), and every run measured the same phase.
    await new Promise((res) => setTimeout(res, Math.random() * EVALUATION_MS));
    // The agent's heartbeat (reporting what it held, APPLIED): the answer sends it the new version.
    const [wire] = encodeRequests({ kind: "v2heartbeat", agents: 1, offset: V2_CURRENT_OFFSET + k, versions });
    const hb = await request(server.port, "POST", "/Agent/Heartbeat", (wire as Buffer).subarray((wire as Buffer).indexOf("\r\n\r\n") + 4));
    const sent = v2.HeartbeatResponse.decode(hb.body).continuous_pipeline_config_updates.find((u) => u.name === name);
    if (hb.status !== 200 || Number(sent?.version) !== last) throw new Error(`run ${run + 1}: ${id} (wave 1) was not sent version ${last} of ${name} (status ${hb.status}, sent ${sent?.version})`);
    const report = v2.ReportStatusRequest.encode(v2.ReportStatusRequest.fromObject({ request_id: Buffer.from(`bench-failed-${run}`), instance_id: Buffer.from(id), continuous_pipeline_configs: [{ name, version: last, status: FAILED, message: "" }] })).finish();
    const rs = await request(server.port, "POST", "/Agent/ReportStatus", report);
    const reportedAt = Date.now();
    if (rs.status !== 200) throw new Error(`run ${run + 1}: ReportStatus answered ${rs.status}`);
    const state = (x: RolloutJson) => (revert ? x.state === "reverted" : x.state === "halted" || x.state === "reverted");
    const halted = await poll(`run ${run + 1}: the halt`, async () => {
      const x = await getJson<RolloutJson>(server.port, `/api/v1/rollouts/${name}`);
      return x.history.some((e) => e.action === "halted") ? x : undefined;
    });
    const seenMs = Date.now() - reportedAt;
    const done = revert ? await poll(`run ${run + 1}: the revert`, async () => {
      const x = await getJson<RolloutJson>(server.port, `/api/v1/rollouts/${name}`);
      return state(x) ? x : undefined;
    }, 10) : halted;
    const at = (x: RolloutJson, action: string) => Date.parse(x.history.findLast((e) => e.action === action)?.at ?? "");
    const result: HaltRun = { toHaltMs: at(halted, "halted") - reportedAt, seenMs, ...(revert ? { revertedMs: at(done, "reverted") - reportedAt } : {}) };
    out.push(result);
    log(`halt run ${run + 1}: report → halted ${result.toHaltMs} ms (seen ${seenMs} ms)${revert ? `, → reverted ${result.revertedMs} ms` : ""}`);
  }
  return out;
}
