import type { AgentRecord, ConfigKind, ConfigReport, Heartbeat, Statistics } from "../domain/agent.ts";
import type { AgentRegistry } from "../domain/registry.ts";

/** The calls of an agent request (synchronous, memory only). */
export type AgentPath = Pick<AgentRegistry, "heartbeat" | "reportConfigs" | "repeated" | "updateConfigs" | "statistics" | "alarm" | "get" | "size">;

/**
 * The agent path of a registry that answers agents from another registry it holds (the Redis
 * registry and a worker's replica from their MemoryRegistry, the primary's fleet view from the
 * registry --registry chose): every call of an agent request goes straight to `local`. What the
 * subclass adds is how changes leave it and the listing side.
 */
export abstract class AgentPathOf {
  protected abstract readonly local: AgentPath;

  heartbeat(beat: Heartbeat): Heartbeat | undefined {
    return this.local.heartbeat(beat);
  }

  reportConfigs(agentId: string, kind: ConfigKind, reports: readonly ConfigReport[]): void {
    this.local.reportConfigs(agentId, kind, reports);
  }

  repeated(agentId: string, parts: number, sequenceNum?: number): void {
    this.local.repeated(agentId, parts, sequenceNum);
  }

  updateConfigs(agentId: string, kind: ConfigKind, reports: readonly ConfigReport[]): void {
    this.local.updateConfigs(agentId, kind, reports);
  }

  statistics(agentId: string, stats: Statistics): void {
    this.local.statistics(agentId, stats);
  }

  alarm(agentId: string, type: string, detail: string): void {
    this.local.alarm(agentId, type, detail);
  }

  get(agentId: string): AgentRecord | undefined {
    return this.local.get(agentId);
  }

  get size(): number {
    return this.local.size;
  }
}
