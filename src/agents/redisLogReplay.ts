import type { Redis } from "ioredis";
import { decodeStored, revOf } from "./agentCodec.ts";
import type { FleetMirror } from "./fleetMirror.ts";
import { BATCH } from "./redisWriteBehind.ts";

/** Log entries read per round trip; more than BATCH (see chunk). */
const CHUNK = 10 * BATCH;

/**
 * Brings a replica's mirror of the fleet up to date with Redis by replaying the write log
 * (`<prefix>log`: agent ids scored by write sequence): only the agents written since the last
 * replay are read, their headers first (most changes are heartbeats that moved only the times),
 * whole when a part changed or the mirror lacks them. When Redis's epoch changes (it lost its
 * data, or this is the first look) the mirror starts over.
 */
export class RedisLogReplay {
  /** What the mirror has replayed up to: Redis's epoch and sequence. */
  private seen: { epoch: string | null; seq: number } = { epoch: null, seq: 0 };

  constructor(
    /** With the csHeads command defined (HEADS_LUA). */
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly mirror: FleetMirror,
  ) {}

  /** Reads into the mirror every write logged since the last replay. Throws when Redis fails. */
  async replay(): Promise<void> {
    if (this.redis.status !== "ready") throw new Error("Redis is unreachable");
    const [[e1, epoch], [e2, seqText]] = (await this.redis.pipeline().get(`${this.prefix}epoch`).get(`${this.prefix}seq`).exec()) as [[Error | null, string | null], [Error | null, string | null]];
    if (e1 || e2) throw e1 ?? e2;
    if (epoch !== this.seen.epoch) {
      this.mirror.clear();
      this.seen = { epoch: epoch ?? null, seq: 0 };
    }
    const upTo = Number(seqText ?? 0);
    let from = this.seen.seq;
    while (from < upTo) from = await this.chunk(from, upTo);
    this.seen.seq = upTo;
  }

  /** Reads log entries with sequence in (from, upTo]; returns the sequence read up to. */
  private async chunk(from: number, upTo: number): Promise<number> {
    const flat = await this.redis.zrangebyscore(`${this.prefix}log`, `(${from}`, upTo, "WITHSCORES", "LIMIT", 0, CHUNK);
    if (flat.length === 0) return upTo;
    let ids: string[] = [];
    let scores: number[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      ids.push(flat[i] as string);
      scores.push(Number(flat[i + 1]));
    }
    let reached = upTo;
    if (ids.length === CHUNK) {
      // A full chunk may end inside one batch's entries (they share a score): leave that batch
      // for the next round, which starts after the last whole one.
      const last = scores[scores.length - 1] as number;
      let keep = scores.length;
      while (keep > 0 && scores[keep - 1] === last) keep--;
      if (keep === 0) keep = scores.length; // cannot happen with CHUNK > BATCH; read it all rather than loop
      reached = keep === scores.length ? last : (scores[keep - 1] as number);
      ids = ids.slice(0, keep);
      scores = scores.slice(0, keep);
    }
    // Agents the mirror holds: their headers first (times and rev, 51 bytes each), since most
    // changes are heartbeats that moved only the times. Agents it lacks are read whole at once.
    const known = ids.filter((id) => this.mirror.rev(id) !== undefined);
    const whole = ids.filter((id) => this.mirror.rev(id) === undefined);
    const heads = known.length === 0 ? [] : await (this.redis as unknown as { csHeads: (...a: string[]) => Promise<(string | null)[]> }).csHeads(this.prefix, ...known);
    for (let i = 0; i < known.length; i++) {
      const id = known[i] as string;
      const head = heads[i];
      if (head === null || head === undefined) this.mirror.delete(id);
      else if (revOf(head) === this.mirror.rev(id)) this.mirror.setTimes(id, head);
      else whole.push(id);
    }
    await this.readWhole(whole);
    return reached;
  }

  /** Reads the named agents' records whole into the mirror (a missing one leaves it). */
  async readWhole(ids: readonly string[]): Promise<void> {
    // MGETs of 1,000 keys, all sent at once (one connection pipelines them), decoded as they come.
    const reads: Promise<void>[] = [];
    for (let from = 0; from < ids.length; from += BATCH) {
      const slice = ids.slice(from, from + BATCH);
      reads.push(this.redis.mget(slice.map((id) => `${this.prefix}a:${id}`)).then((texts) => {
        for (let i = 0; i < slice.length; i++) {
          const id = slice[i] as string;
          const text = texts[i];
          if (text === null || text === undefined) this.mirror.delete(id);
          else this.mirror.set(id, decodeStored(text));
        }
      }));
    }
    await Promise.all(reads);
  }
}
