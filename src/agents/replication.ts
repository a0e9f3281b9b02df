import type { AgentRecord } from "../domain/agent.ts";
import { decodeAlarms, decodeHeartbeat, decodeReports, decodeStatistics, decodeTimes, encodeParts, encodeTimes, FULL, Part, PART_FIELDS, TIMES_WIDTH, type RecordParts } from "./agentCodec.ts";
import type { Absorbed, AbsorbedChange, RecordContent } from "./absorbedChange.ts";

/**
 * Agent changes as the processes of one server (--workers) send them to each other: the primary
 * and every worker hold the same registry, kept in step by these batches (docs/deployment.md,
 * "Workers"). The parts are agentCodec's, the same text the Redis registry stores.
 *
 * - `times`: agents whose times (and v2 sequence number) alone moved, the common heartbeat: one
 *   line each, `<times: 36 characters><sequence>\x1f<id>\n` (ids with a line break go as records).
 * - `records`: `[id, times, sequence ("" = none), mask, whole, h, p, i, s, l]`: the parts in `mask`
 *   changed; with `whole` = 1 every part is sent (the sender had not heard of the agent before),
 *   else only those in `mask` (the others are null).
 * - `alarms`: each alarm raised, appended by the receiver (not the whole list per alarm).
 */
export interface ChangeBatch {
  readonly times: string;
  readonly records: readonly RecordTuple[];
  /** Alarms raised since the last batch, oldest first: `[id, type, detail, time]` (a record's alarms part is the whole list, up to 100). */
  readonly alarms: readonly AlarmTuple[];
}

export type AlarmTuple = readonly [string, string, string, number];

export type RecordTuple = readonly [string, string, string, number, 0 | 1, string | null, string | null, string | null, string | null, string | null];

/** A pending flag beside the Part bits: the agent is new to the sender, so its whole record goes. */
export const WHOLE = 64;
/** What an agent's request reads of its record (besides its existence): a change to these reaches every process first. */
export const AGENT_PATH = Part.H | Part.P | Part.I | WHOLE;

/** Whether a record of a batch changes what agents' requests read (else it may wait, coalesced). */
export const onAgentPath = (r: RecordTuple) => r[4] === 1 || (r[3] & AGENT_PATH) !== 0;
const UNIT = "\x1f";

export const isEmptyBatch = (b: ChangeBatch) => b.times === "" && b.records.length === 0 && b.alarms.length === 0;

/** The batch for these records, each with the parts that changed (Part bits, and WHOLE), and the alarms raised. */
export function encodeBatch(changed: Iterable<readonly [AgentRecord, number]>, alarms: readonly AlarmTuple[] = []): ChangeBatch {
  let times = "";
  const records: RecordTuple[] = [];
  for (const [r, flags] of changed) {
    const sequence = r.sequenceNum;
    const seq = sequence === undefined ? "" : String(sequence);
    if (flags === 0 && !r.agentId.includes("\n")) {
      times += `${encodeTimes(r)}${seq}${UNIT}${r.agentId}\n`;
      continue;
    }
    const whole = (flags & WHOLE) !== 0;
    const mask = flags & FULL;
    const p = encodeParts(r, whole ? FULL : mask);
    records.push([r.agentId, encodeTimes(r), seq, mask, whole ? 1 : 0, p.h ?? null, p.p ?? null, p.i ?? null, p.s ?? null, p.l ?? null]);
  }
  return { times, records, alarms };
}

/** Every given record whole, every part marked changed: what a process that lacks them (or holds older copies) takes as is. */
export function wholeBatch(records: Iterable<AgentRecord>): ChangeBatch {
  const out: RecordTuple[] = [];
  for (const r of records) {
    const p = encodeParts(r, FULL);
    const sequence = r.sequenceNum;
    out.push([r.agentId, encodeTimes(r), sequence === undefined ? "" : String(sequence), FULL, 1, p.h ?? "", p.p ?? "", p.i ?? "", p.s ?? "", p.l ?? ""]);
  }
  return { times: "", records: out, alarms: [] };
}

const sequenceOf = (text: string) => (text === "" ? undefined : Number(text));

function content(agentId: string, parts: Partial<RecordParts>): Partial<RecordContent> {
  const out: { -readonly [K in keyof RecordContent]?: RecordContent[K] } = {};
  if (parts.h !== undefined) out.heartbeat = decodeHeartbeat(agentId, parts.h);
  if (parts.p !== undefined) out.pipelines = decodeReports(parts.p);
  if (parts.i !== undefined) out.instances = decodeReports(parts.i);
  if (parts.s !== undefined) out.statistics = decodeStatistics(parts.s);
  if (parts.l !== undefined) out.alarms = decodeAlarms(parts.l);
  return out;
}

/** Each line of a batch's `times` (without its line break) with its agent id; `unit` is where the id's separator is. */
export function eachTimesLine(lines: string, visit: (agentId: string, line: string, unit: number) => void): void {
  let at = 0;
  while (at < lines.length) {
    const end = lines.indexOf("\n", at);
    const line = lines.slice(at, end < 0 ? lines.length : end);
    at = end < 0 ? lines.length : end + 1;
    const unit = line.indexOf(UNIT, TIMES_WIDTH);
    if (unit >= 0) visit(line.slice(unit + 1), line, unit);
  }
}

/** Each change of a batch, decoded, in the order sent. */
export function decodeBatch(batch: ChangeBatch, visit: (change: AbsorbedChange) => void): void {
  eachTimesLine(batch.times, (agentId, line, unit) => visit({ agentId, ...decodeTimes(line), sequenceNum: sequenceOf(line.slice(TIMES_WIDTH, unit)), mask: 0 }));
  for (const [agentId, times, seq, mask, whole, ...texts] of batch.records) {
    const parts: Partial<RecordParts> = {};
    for (const [, field, position] of PART_FIELDS) {
      const text = texts[position - 1];
      if (text !== null && text !== undefined) parts[field] = text;
    }
    const given = content(agentId, parts);
    const change: AbsorbedChange = whole === 1
      ? { agentId, ...decodeTimes(times), sequenceNum: sequenceOf(seq), mask, whole: wholeContent(given) }
      : { agentId, ...decodeTimes(times), sequenceNum: sequenceOf(seq), mask, ...given };
    visit(change);
  }
  for (const [agentId, type, detail, time] of batch.alarms) visit({ agentId, lastSeenMs: 0, latestHeartbeatTime: 0, reportedMs: 0, mask: 0, addedAlarms: [{ type, detail, time }] });
}

function wholeContent(c: Partial<RecordContent>): RecordContent {
  return { heartbeat: c.heartbeat, pipelines: c.pipelines ?? [], instances: c.instances ?? [], statistics: c.statistics, alarms: c.alarms ?? [] };
}

/**
 * Absorbs a batch the way every process does, so all hold the same: returns the agents named that
 * `absorb` has no live record of (they are then sent whole). An alarm raised before the batch's
 * whole record of its agent is in that record already: it is appended only where the record was
 * not taken whole.
 */
export function absorbBatch(batch: ChangeBatch, absorb: (change: AbsorbedChange) => Absorbed | undefined): string[] {
  const missing = new Set<string>();
  const created = new Set<string>();
  decodeBatch(batch, (change) => {
    if (change.addedAlarms !== undefined && created.has(change.agentId)) return;
    const a = absorb(change);
    if (a === undefined) missing.add(change.agentId);
    else if (a.created) created.add(change.agentId);
  });
  return [...missing];
}
