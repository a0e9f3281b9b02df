// The agent scenarios of bench/run.ts and bench/ab.ts: which agents a server is given, which
// request each scenario sends, and the baselines (koa and bare node:http) answering what the
// server answers, captured from it after the fleet is registered.
import { loadavg } from "node:os";
import { configserver } from "../src/gen/proto.js";
import { agentId } from "./fleet.ts";
import { encodeRequests, type BodyKind, type LoadResult, type LoadSpec } from "./loadgen.ts";
import { load, request, startBaseline, type BaselineKind, type Proc } from "./proc.ts";
import { median } from "./stats.ts";

const pb = configserver.proto;

/** v2 agents are other agents than the alpha ones (up to 100,000 in the growth rows): their own numbers. */
export const V2_CURRENT_OFFSET = 200_000;
export const V2_FIRST_OFFSET = 400_000;

export type ScenarioName = "same" | "new" | "heartbeat" | "v1" | "v2" | "v2first";

export interface Scenario {
  readonly name: ScenarioName;
  readonly title: string;
  readonly kind: BodyKind;
  readonly path: string;
  /** What the agents report: the served versions ("current") or nothing (everything is sent). */
  readonly current: boolean;
  readonly offset?: number;
  /** Which baseline process answers it (a process serves one template per path; v1 shares alpha's path). */
  readonly set: "a" | "b" | "v1";
  /** Whether the answer's size matters more than its count (reported in bytes/s). */
  readonly bytes?: boolean;
}

export const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = {
  same: { name: "same", title: "alpha GetConfigList SAME (10 configs, all current)", kind: "configList", path: "/Agent/GetConfigList", current: true, set: "a" },
  new: { name: "new", title: "alpha GetConfigList NEW (10 configs sent)", kind: "configList", path: "/Agent/GetConfigList", current: false, set: "b", bytes: true },
  heartbeat: { name: "heartbeat", title: "alpha HeartBeat", kind: "heartbeat", path: "/Agent/HeartBeat", current: true, set: "a" },
  v1: { name: "v1", title: "v1 HeartBeat (10 configs reported, all current)", kind: "v1heartbeat", path: "/Agent/HeartBeat", current: true, set: "v1" },
  v2: { name: "v2", title: "v2 Heartbeat (10 configs reported APPLIED, all current)", kind: "v2heartbeat", path: "/Agent/Heartbeat", current: true, offset: V2_CURRENT_OFFSET, set: "a" },
  v2first: { name: "v2first", title: "v2 Heartbeat, first beat (nothing reported: 10 configs with details sent)", kind: "v2heartbeat", path: "/Agent/Heartbeat", current: false, offset: V2_FIRST_OFFSET, set: "b", bytes: true },
};

/** The load spec of a scenario for `agents` agents (the server's port and connections added by the caller). */
export function specOf(s: Scenario, agents: number, versions: Record<string, number>): Omit<LoadSpec, "port" | "connections"> {
  return { kind: s.kind, agents, versions: s.current ? versions : {}, ...(s.offset !== undefined ? { offset: s.offset } : {}) };
}

/** The body of agent 0's request in a scenario (what the templates are captured with). */
function firstBody(s: Scenario, versions: Record<string, number>): Buffer {
  const [wire] = encodeRequests({ ...specOf(s, 1, versions) });
  const b = wire as Buffer;
  return b.subarray(b.indexOf("\r\n\r\n") + 4);
}

/** The versions the server serves to agent 0 (every agent of the fleet gets the same configs). */
export async function servedVersions(port: number): Promise<Record<string, number>> {
  const r = await request(port, "POST", "/Agent/GetConfigList", pb.AgentGetConfigListRequest.encode({ agent_id: agentId(0) }).finish());
  const m = pb.AgentGetConfigListResponse.decode(r.body);
  if (r.status !== 200) throw new Error(`GetConfigList answered ${r.status} ${m.code}: ${m.message}`);
  return Object.fromEntries(m.config_update_infos.map((i) => [i.config_name ?? "", Number(i.config_version)]));
}

/**
 * Registers `agents` agents of every scenario with a server, each sending its request once (alpha
 * agents heartbeat first: GetConfigList needs a known agent; v2 agents then answer as known
 * agents, with no full-state request). Returns the served versions.
 */
export async function registerFleet(server: Proc, agents: number, connections: number, versions?: Record<string, number>, only?: readonly ScenarioName[]): Promise<Record<string, number>> {
  const once = async (spec: Omit<LoadSpec, "port" | "connections">) => {
    const r = await load({ ...spec, port: server.port, connections, once: true });
    if (r.errors) throw new Error(`registering ${spec.kind}: ${r.errors} errors ${JSON.stringify(r.statuses)}`);
  };
  const wanted = (s: Scenario) => only === undefined || only.some((n) => SCENARIOS[n].set === s.set && SCENARIOS[n].kind === s.kind) || (s === SCENARIOS.heartbeat && only.some((n) => SCENARIOS[n].kind === "configList"));
  // Agent 0 of every kind is always known: the templates (captureTemplates) are its answers.
  await once({ kind: "heartbeat", agents: wanted(SCENARIOS.heartbeat) ? agents : 1 });
  const v = versions ?? (await servedVersions(server.port));
  for (const s of [SCENARIOS.v1, SCENARIOS.v2, SCENARIOS.v2first]) await once(specOf(s, wanted(s) ? agents : 1, v));
  return v;
}

/** Each scenario's answer to agent 0's request, from the server (base64), checked to be what the scenario means. */
export async function captureTemplates(server: Proc, versions: Record<string, number>): Promise<Record<ScenarioName, string>> {
  const out = {} as Record<ScenarioName, string>;
  for (const s of Object.values(SCENARIOS)) {
    const r = await request(server.port, "POST", s.path, firstBody(s, versions));
    if (r.status !== 200) throw new Error(`${s.title}: the server answered ${r.status}`);
    check(s, r.body);
    out[s.name] = r.body.toString("base64");
  }
  return out;
}

function check(s: Scenario, body: Buffer): void {
  const fail = (what: string) => {
    throw new Error(`${s.title}: ${what}; the scenario would not measure what it says`);
  };
  if (s.name === "same" || s.name === "new") {
    const m = pb.AgentGetConfigListResponse.decode(body);
    const sent = m.config_update_infos.filter((i) => i.content).length;
    if (s.name === "same" ? sent !== 0 : sent === 0) fail(`${sent} configs sent`);
  } else if (s.name === "v1") {
    if (pb.v1.HeartBeatResponse.decode(body).pipeline_check_results.length > 0) fail("the answer has check results");
  } else if (s.name === "v2" || s.name === "v2first") {
    const m = pb.v2.HeartbeatResponse.decode(body);
    const n = m.continuous_pipeline_config_updates.length;
    if (Number(m.flags) !== 0) fail(`flags ${Number(m.flags)} (full state asked)`);
    if (s.name === "v2" ? n !== 0 : n === 0 || !m.continuous_pipeline_config_updates.every((u) => (u.detail?.length ?? 0) > 0)) fail(`${n} config updates`);
  }
}

/** Baseline processes: per kind (koa, bare), one per template set. */
export interface Baselines {
  readonly of: (s: Scenario, kind: BaselineKind) => Proc;
  stop(): Promise<void>;
}

export async function startBaselines(templates: Record<ScenarioName, string>, kinds: readonly BaselineKind[] = ["koa", "bare"], nodeFlags: string[] = []): Promise<Baselines> {
  const sets: Record<Scenario["set"], Record<string, string>> = { a: {}, b: {}, v1: {} };
  for (const s of Object.values(SCENARIOS)) (sets[s.set] as Record<string, string>)[s.path] = templates[s.name];
  const procs = new Map<string, Proc>();
  try {
    for (const kind of kinds) for (const [set, t] of Object.entries(sets)) procs.set(`${kind}/${set}`, await startBaseline(t, set === "v1", kind, nodeFlags));
  } catch (e) {
    for (const p of procs.values()) await p.stop();
    throw e;
  }
  return {
    of: (s, kind) => {
      const p = procs.get(`${kind}/${s.set}`);
      if (!p) throw new Error(`no ${kind} baseline started`);
      return p;
    },
    stop: async () => {
      for (const p of procs.values()) await p.stop();
    },
  };
}

/** Checks that every baseline answers agent 0's request of every scenario exactly as the server did. */
export async function checkBaselines(b: Baselines, kinds: readonly BaselineKind[], templates: Record<ScenarioName, string>, versions: Record<string, number>): Promise<void> {
  for (const s of Object.values(SCENARIOS)) {
    for (const kind of kinds) {
      const r = await request(b.of(s, kind).port, "POST", s.path, firstBody(s, versions));
      if (r.body.toString("base64") !== templates[s.name]) throw new Error(`the ${kind} baseline's answer to ${s.title} differs from the server's`);
    }
  }
}

export interface Contender {
  readonly name: string;
  readonly proc: Proc;
}

export interface Rounds {
  /** Per contender, one result per round. */
  readonly results: Record<string, LoadResult[]>;
  /** Load average (1 min) at each round's end. */
  readonly load: number[];
}

/**
 * Closed-loop peaks of one scenario: every contender once per round, in an order rotated each
 * round (so none is always first after an idle pause), `rounds` times.
 */
export async function interleaved(contenders: readonly Contender[], spec: Omit<LoadSpec, "port">, rounds: number, durationMs: number, warmupMs: number, onRound?: (i: number, r: Rounds) => void): Promise<Rounds> {
  const out: Rounds = { results: {}, load: [] };
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(k + i) % contenders.length] as Contender;
      const r = await load({ ...spec, port: c.proc.port, durationMs, warmupMs, watchPid: c.proc.pid });
      if (r.errors) throw new Error(`${c.name}: errors under load ${JSON.stringify(r.statuses)}`);
      (out.results[c.name] ??= []).push(r);
    }
    out.load.push(loadavg()[0] ?? NaN);
    onRound?.(i, out);
  }
  return out;
}


/** Server CPU per request, µs. */
export const cpuUs = (r: LoadResult): number => ((r.serverCpu ?? 0) / r.rps) * 1e6;

/** Median of per-round ratios a ÷ b of req/s. */
export const ratio = (r: Rounds, a: string, b: string): number => median((r.results[a] ?? []).map((x, i) => x.rps / (r.results[b]?.[i] as LoadResult).rps));

/** Median of per-round ratios of CPU per request, b ÷ a (the share of a's CPU the floor b needs). */
export const cpuRatio = (r: Rounds, a: string, b: string): number => median((r.results[a] ?? []).map((x, i) => cpuUs(r.results[b]?.[i] as LoadResult) / cpuUs(x)));
