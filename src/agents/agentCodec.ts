import type { AgentProtocol, AgentRecord, Alarm, ApplyStatus, ConfigReport, Heartbeat, Statistics } from "../domain/agent.ts";

/**
 * An agent record as the fields of its Redis hash (docs/deployment.md, "Redis keys"). Each part
 * is its own field so a change writes only that part, and so parts that thousands of agents
 * share byte for byte (the reports of one applied list, a tag set) are decoded once per value.
 *
 *   h  heartbeat: [protocol, agentType, version, ip, hostname, runningStatus, startupTime,
 *      intervalSeconds|null, capabilities|null, extras|0, named tags, v1 tag values|0]
 *   p  pipeline reports, i  instance reports: [[name, version, status, message], …] sorted by name
 *   s  statistics: [cpu, memory, extras]        l  alarms: [[type, detail, time], …] oldest first
 *   t  times: "lastSeenMs latestHeartbeatTime reportedMs"
 *   v  the write sequence of the last change to h, p, i, s or l (replicas re-read those when it moves)
 * An empty string is an absent part (no heartbeat yet, no statistics, no alarms, no reports).
 */
export interface RecordParts {
  h: string;
  p: string;
  i: string;
  s: string;
  l: string;
}

/** Which parts a change touched (bit flags); FULL writes every part. */
export const Part = { H: 1, P: 2, I: 4, S: 8, L: 16 } as const;
export const FULL = 31;
export const PART_FIELDS: readonly (readonly [number, keyof RecordParts])[] = [[Part.H, "h"], [Part.P, "p"], [Part.I, "i"], [Part.S, "s"], [Part.L, "l"]];

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
const isEmpty = (o: Readonly<Record<string, string>>) => {
  for (const _ in o) return false;
  return true;
};

export function encodeHeartbeat(hb: Heartbeat | undefined): string {
  if (hb === undefined) return "";
  const a = hb.attributes;
  return JSON.stringify([
    hb.protocol, a.agentType, a.version, a.ip, a.hostname, hb.runningStatus, hb.startupTime,
    hb.intervalSeconds ?? null, hb.capabilities ?? null, isEmpty(a.extras) ? 0 : a.extras, hb.tags.named, hb.tags.values ?? 0,
  ]);
}

type HeartbeatTuple = [AgentProtocol, string, string, string, string, string, number, number | null, number | null, Record<string, string> | 0, Record<string, string>, string[] | 0];

export function decodeHeartbeat(agentId: string, text: string): Heartbeat | undefined {
  if (text === "") return undefined;
  const [protocol, agentType, version, ip, hostname, runningStatus, startupTime, interval, capabilities, extras, named, values] = JSON.parse(text) as HeartbeatTuple;
  return {
    agentId,
    protocol,
    attributes: { agentType, version, ip, hostname, extras: extras === 0 ? EMPTY : extras },
    tags: values === 0 ? { named } : { named, values },
    runningStatus,
    startupTime,
    intervalSeconds: interval ?? undefined,
    capabilities: capabilities ?? undefined,
  };
}

export function encodeReports(reports: readonly ConfigReport[]): string {
  if (reports.length === 0) return "";
  return JSON.stringify(reports.map((r) => [r.name, r.version, r.status, r.message]));
}

export function decodeReports(text: string): readonly ConfigReport[] {
  if (text === "") return NO_REPORTS;
  const rows = JSON.parse(text) as [string, number, ApplyStatus, string][];
  return Object.freeze(rows.map(([name, version, status, message]) => Object.freeze({ name, version, status, message })));
}

export function encodeStatistics(s: Statistics | undefined): string {
  return s === undefined ? "" : JSON.stringify([s.cpu, s.memory, s.extras]);
}

export function decodeStatistics(text: string): Statistics | undefined {
  if (text === "") return undefined;
  const [cpu, memory, extras] = JSON.parse(text) as [number, string, Record<string, string>];
  return { cpu, memory, extras };
}

export function encodeAlarms(alarms: readonly Alarm[]): string {
  return alarms.length === 0 ? "" : JSON.stringify(alarms.map((a) => [a.type, a.detail, a.time]));
}

export function decodeAlarms(text: string): Alarm[] {
  if (text === "") return [];
  return (JSON.parse(text) as [string, string, number][]).map(([type, detail, time]) => ({ type, detail, time }));
}

export interface Times {
  readonly lastSeenMs: number;
  readonly latestHeartbeatTime: number;
  readonly reportedMs: number;
}

export const encodeTimes = (r: Times) => `${r.lastSeenMs} ${r.latestHeartbeatTime} ${r.reportedMs}`;

export function decodeTimes(text: string): Times {
  const [a, b, c] = text.split(" ");
  return { lastSeenMs: Number(a), latestHeartbeatTime: Number(b), reportedMs: Number(c) };
}

/** The parts of a record named by `flags` (the others are left out). */
export function encodeParts(r: AgentRecord, flags: number): Partial<RecordParts> {
  const out: Partial<RecordParts> = {};
  if (flags & Part.H) out.h = encodeHeartbeat(r.heartbeat);
  if (flags & Part.P) out.p = reportsText(r.pipelines);
  if (flags & Part.I) out.i = reportsText(r.instances);
  if (flags & Part.S) out.s = encodeStatistics(r.statistics);
  if (flags & Part.L) out.l = encodeAlarms(r.alarms);
  return out;
}

/** A fleet reports the same few lists (one per applied list and version): each is encoded once. */
const encodedReports = new WeakMap<readonly ConfigReport[], string>();
function reportsText(reports: readonly ConfigReport[]): string {
  let text = encodedReports.get(reports);
  if (text === undefined) encodedReports.set(reports, (text = encodeReports(reports)));
  return text;
}

export const NO_REPORTS: readonly ConfigReport[] = Object.freeze([]);
