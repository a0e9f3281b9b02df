import type { AgentProtocol, AgentRecord, Alarm, ApplyStatus, ConfigReport, Heartbeat, Statistics } from "../domain/agent.ts";

/**
 * An agent record as one Redis string (docs/deployment.md, "Redis keys"): a fixed-width header,
 * then five parts separated by \x1f (JSON never contains it unescaped):
 *
 *   header  lastSeenMs (13 digits) latestHeartbeatTime (10) reportedMs (13) rev (15): 51 characters;
 *           rev is the write sequence of the last change to a part (replicas re-read parts when it moves)
 *   h  heartbeat: [protocol, agentType, version, ip, hostname, runningStatus, startupTime,
 *      intervalSeconds|null, capabilities|null, extras|0, named tags, v1 tag values|0]
 *   p  pipeline reports, i  instance reports: [[name, version, status, message], …] sorted by name
 *   s  statistics: [cpu, memory, extras]        l  alarms: [[type, detail, time], …] oldest first
 * An empty part is an absent one (no heartbeat yet, no statistics, no alarms, no reports). One
 * string, not a hash: a hash with a value over 64 bytes (10 reports are ~200) leaves Redis's
 * compact encoding and costs twice the memory. A change sends only the parts it touched; the
 * write script splices them in.
 */
export interface RecordParts {
  h: string;
  p: string;
  i: string;
  s: string;
  l: string;
}

export const SEPARATOR = "\x1f";
export const TIMES_WIDTH = 36;
export const HEADER_WIDTH = 51;
/** Which parts a change touched (bit flags); FULL writes every part. */
export const Part = { H: 1, P: 2, I: 4, S: 8, L: 16 } as const;
export const FULL = 31;
/** Each part's flag, key and position (1-based) in the stored string. */
export const PART_FIELDS: readonly (readonly [number, keyof RecordParts, number])[] = [[Part.H, "h", 1], [Part.P, "p", 2], [Part.I, "i", 3], [Part.S, "s", 4], [Part.L, "l", 5]];

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

const pad = (n: number, width: number) => String(Math.max(0, Math.floor(n))).padStart(width, "0");

/** The times as the header's first 36 characters (fixed width, so the script can compare and splice them). */
export const encodeTimes = (r: Times) => `${pad(r.lastSeenMs, 13)}${pad(r.latestHeartbeatTime, 10)}${pad(r.reportedMs, 13)}`;

export function decodeTimes(text: string): Times {
  return { lastSeenMs: Number(text.slice(0, 13)), latestHeartbeatTime: Number(text.slice(13, 23)), reportedMs: Number(text.slice(23, 36)) };
}

/** A stored record: its times, rev and parts. */
export interface StoredRecord extends RecordParts {
  readonly times: Times;
  readonly rev: string;
}

export function decodeStored(text: string): StoredRecord {
  const [, h = "", p = "", i = "", s = "", l = ""] = text.slice(HEADER_WIDTH).split(SEPARATOR);
  return { times: decodeTimes(text), rev: revOf(text), h, p, i, s, l };
}

/** The rev of a stored record (or of its header alone). */
export const revOf = (text: string) => String(Number(text.slice(TIMES_WIDTH, HEADER_WIDTH)));

/** A whole stored record (what the write script builds; for tests and tools). */
export function encodeStored(times: Times, rev: number, parts: RecordParts): string {
  return `${encodeTimes(times)}${pad(rev, 15)}${SEPARATOR}${[parts.h, parts.p, parts.i, parts.s, parts.l].join(SEPARATOR)}`;
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
