import { client, num, pb } from "./client.ts";
import { V1Agent } from "./v1Agent.ts";
import { V2Agent, Status } from "./v2Agent.ts";

const { SAME, DELETED } = pb.ConfigUpdateInfo.UpdateStatus;

/** An alpha agent as the alpha protocol's clients do it: a heartbeat, then GetConfigList with the versions it holds. */
export class AlphaAgent {
  readonly held = new Map<string, { version: number; content: string }>();
  constructor(
    private url: string,
    readonly instanceId: string,
    readonly tags: Record<string, string>,
  ) {}

  pointAt(url: string): void {
    this.url = url;
  }

  /** Returns the names of the configs it was sent (NEW, MODIFIED or DELETED). */
  async cycle(): Promise<string[]> {
    const api = client(this.url);
    await api.heartbeat({ request_id: "hb", agent_id: this.instanceId, agent_type: "iLogtail", ip: "10.0.1.1", tags: this.tags, startup_time: 1 });
    const versions = Object.fromEntries([...this.held].map(([n, c]) => [n, c.version]));
    const r = await api.configList({ request_id: "cl", agent_id: this.instanceId, config_versions: versions });
    const sent: string[] = [];
    for (const u of r.body.config_update_infos ?? []) {
      const name = u.config_name ?? "";
      if (u.update_status === SAME) continue;
      sent.push(name);
      if (u.update_status === DELETED) this.held.delete(name);
      else this.held.set(name, { version: num(u.config_version), content: u.content ?? "" });
    }
    return sent;
  }
}

export type AnyAgent = { kind: "v2"; agent: V2Agent } | { kind: "v1"; agent: V1Agent } | { kind: "alpha"; agent: AlphaAgent };

/** A fleet of agents of the three protocols, each cycling (heartbeat, fetch, load) in rounds. */
export class Fleet {
  readonly agents: AnyAgent[] = [];
  /** v2 agents that fail to load a config (the message they report; "" like the real provider). */
  failing = new Map<string, string>();
  /** Agents that stopped (no more heartbeats). */
  readonly stopped = new Set<string>();
  /** Every version each agent ever held of each config, in order (instance id → name → versions). */
  readonly seen = new Map<string, Map<string, number[]>>();
  /** When each agent first held each (config, version): unix ms, as the agent saw it. */
  readonly firstHeld = new Map<string, number>();
  /** How many times each agent was sent the config (any update: new content, version or deletion). */
  readonly deliveries = new Map<string, number>();

  /** `prefix`: put before every instance id, so several fleets (with other tags) can share a server. */
  constructor(url: string, v2: number, v1: number, alpha: number, tags: Record<string, string> = {}, prefix = "") {
    for (let i = 0; i < v2; i++) this.agents.push({ kind: "v2", agent: new V2Agent(url, `${prefix}v2-agent-${i}`, tags) });
    for (let i = 0; i < v1; i++) this.agents.push({ kind: "v1", agent: new V1Agent(url, `${prefix}v1-agent-${i}`, tags) });
    for (let i = 0; i < alpha; i++) this.agents.push({ kind: "alpha", agent: new AlphaAgent(url, `${prefix}alpha-agent-${i}`, tags) });
  }

  /** Both fleets' agents as one (the first's), so one round cycles all of them. */
  join(other: Fleet): this {
    this.agents.push(...other.agents);
    return this;
  }

  pointAt(url: string): void {
    for (const a of this.agents) (a.agent as { pointAt(url: string): void }).pointAt(url);
  }

  /** The version of config `name` each agent holds now (0: none). */
  held(a: AnyAgent, name: string): number {
    if (a.kind === "v2") return a.agent.pipelines.get(name)?.version ?? 0;
    if (a.kind === "v1") return a.agent.held.get(name) ?? 0;
    return a.agent.held.get(name)?.version ?? 0;
  }

  /** One round: every running agent cycles once (a bounded number at a time), v2 agents then load what they got. */
  async round(name: string): Promise<void> {
    const running = this.agents.filter((a) => !this.stopped.has(a.agent.instanceId));
    const width = 64;
    for (let i = 0; i < running.length; i += width) {
      await Promise.all(running.slice(i, i + width).map(async (a) => {
        const sent = a.kind === "v2" ? (await a.agent.cycle()).pipelineUpdates.map((u) => u.name) : a.kind === "v1" ? (await a.agent.cycle()).results.map((u) => u.name) : await a.agent.cycle();
        if (sent.includes(name)) this.deliveries.set(a.agent.instanceId, (this.deliveries.get(a.agent.instanceId) ?? 0) + 1);
        if (a.kind === "v2") a.agent.load((n, json) => (this.failing.has(a.agent.instanceId) && n === name && json.bad === true ? this.failing.get(a.agent.instanceId) : undefined));
        this.note(a, name);
      }));
    }
  }

  private note(a: AnyAgent, name: string): void {
    const v = this.held(a, name);
    const id = a.agent.instanceId;
    let byName = this.seen.get(id);
    if (!byName) this.seen.set(id, (byName = new Map()));
    const list = byName.get(name) ?? [];
    if (list[list.length - 1] !== v) list.push(v);
    byName.set(name, list);
    const key = `${id}\0${name}\0${v}`;
    if (!this.firstHeld.has(key)) this.firstHeld.set(key, Date.now());
  }

  versionsSeen(id: string, name: string): number[] {
    return this.seen.get(id)?.get(name) ?? [];
  }

  /** Runs rounds until `done` holds (checked after each round). */
  async until(name: string, done: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.round(name);
      if (await done()) return;
      if (Date.now() > deadline) throw new Error(`fleet: condition not met within ${timeoutMs} ms`);
    }
  }

  cleanup(): void {
    for (const a of this.agents) if (a.kind !== "alpha") a.agent.cleanup();
  }
}

export { Status };
