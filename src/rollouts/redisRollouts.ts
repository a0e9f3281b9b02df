import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { ConfigKind } from "../domain/agent.ts";
import { DomainError, type ErrorCode } from "../domain/errors.ts";
import { redisClient } from "../redis/connect.ts";
import { RedisLease } from "../redis/lease.ts";
import type { OperatorAction } from "./rolloutActions.ts";
import type { RolloutRecord } from "./rolloutRecord.ts";
import { revived, type RolloutSharing, type ServedNote, type SharedRollouts } from "./sharedRollouts.ts";

/** What the replicas say to each other on the rollouts' channel. */
type Message =
  | { readonly t: "state"; readonly from: string; readonly commit: string; readonly state?: SharedRollouts }
  | { readonly t: "act"; readonly from: string; readonly id: string; readonly name: string; readonly action: OperatorAction; readonly who: string; readonly kind?: ConfigKind | undefined }
  | { readonly t: "acted"; readonly to: string; readonly id: string; readonly record?: RolloutRecord; readonly error?: { readonly code: ErrorCode; readonly message: string } };

export interface RedisRolloutsHandlers {
  /** This replica now decides (it holds the lease). */
  readonly onDeciding: () => void;
  /** It no longer does. */
  readonly onFollowing: () => void;
  /** The deciding replica shared new records. */
  readonly onShared: (state: SharedRollouts) => void;
  /** Another replica forwarded an operator's action (called only while this replica decides). */
  readonly act: (name: string, action: OperatorAction, who: string, kind: ConfigKind | undefined) => Promise<RolloutRecord>;
}

export interface RedisRolloutsOptions {
  readonly url: string;
  readonly logger: Logger;
  /** Key and channel prefix; default "cs:rollouts:". */
  readonly prefix?: string;
  /** The lease's TTL (a dead deciding replica is replaced after it); default 5 s. */
  readonly leaseMs?: number;
  /** How long a forwarded action waits for the deciding replica; default 5 s. */
  readonly forwardTimeoutMs?: number;
}

/** Shared records up to this size travel in the message itself (read at once, in order with the answers); larger ones are read from the key. */
const INLINE_STATE = 256 * 1024;
/** Served notes kept at most while Redis is unreachable, and in Redis until the deciding replica reads them. */
const MAX_NOTES = 100_000;
const NOTE_FLUSH_MS = 200;

/**
 * The rollouts shared by the replicas of one Redis (docs/rollouts.md, "State,
 * restarts and several processes"). Keys: `<prefix>owner` the lease, `<prefix>state` the records as last shared (JSON),
 * `<prefix>served` the served notes for the deciding replica (a list of JSON batches); the
 * channel `<prefix>events` says when the state changed and carries forwarded actions and their
 * answers. Nothing here is on the agent path: served notes are buffered and sent on a timer.
 */
export class RedisRollouts implements RolloutSharing {
  readonly id = randomUUID();
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly lease: RedisLease;
  private readonly prefix: string;
  private readonly channel: string;
  private notes: ServedNote[] = [];
  private readonly flushTimer: NodeJS.Timeout;
  private readonly waiting = new Map<string, { resolve: (r: RolloutRecord) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  /** A state publication in flight, and the newest one to send after it (older ones are skipped). */
  private publishing = false;
  private nextState: SharedRollouts | undefined;
  private published: (() => void)[] = [];
  private reading = false;
  private readAgain = false;

  constructor(private readonly options: RedisRolloutsOptions, private readonly handlers: RedisRolloutsHandlers) {
    this.prefix = options.prefix ?? "cs:rollouts:";
    this.channel = `${this.prefix}events`;
    this.pub = redisClient(options.url, "rollouts", options.logger);
    this.sub = redisClient(options.url, "rollouts-subscribe", options.logger, { queue: true });
    this.sub.subscribe(this.channel).catch((err: Error) => options.logger.warn({ err: err.message }, "subscribing to the rollouts' channel failed"));
    this.sub.on("message", (channel: string, text: string) => {
      if (channel === this.channel) this.received(text);
    });
    // A replica that was cut off may have missed a publication: read the state again.
    this.sub.on("ready", () => this.follow());
    this.lease = new RedisLease({
      url: options.url,
      key: `${this.prefix}owner`,
      logger: options.logger,
      ...(options.leaseMs ? { ttlMs: options.leaseMs } : {}),
      onAcquired: () => {
        options.logger.info("this replica now decides the rollouts (it holds the lease)");
        handlers.onDeciding();
      },
      onLost: () => {
        options.logger.warn("this replica no longer decides the rollouts: another replica holds the lease, or Redis is unreachable");
        handlers.onFollowing();
      },
    });
    this.flushTimer = setInterval(() => this.flushNotes(), NOTE_FLUSH_MS);
    this.flushTimer.unref();
  }

  get deciding(): boolean {
    return this.lease.holding;
  }

  publish(state: SharedRollouts): Promise<void> {
    this.nextState = state;
    const done = new Promise<void>((resolve) => this.published.push(resolve));
    if (this.publishing) return done;
    this.publishing = true;
    void (async () => {
      while (this.nextState !== undefined) {
        const s = this.nextState;
        const waiting = this.published;
        this.nextState = undefined;
        this.published = [];
        try {
          const text = JSON.stringify({ commit: s.commit, rollouts: s.rollouts });
          await this.pub.set(`${this.prefix}state`, text);
          const inline = text.length <= INLINE_STATE ? { state: s } : {};
          await this.pub.publish(this.channel, JSON.stringify({ t: "state", from: this.id, commit: s.commit, ...inline } satisfies Message));
        } catch (err) {
          this.options.logger.warn({ err: (err as Error).message }, "sharing the rollouts through Redis failed; the next change shares them again");
        }
        for (const resolve of waiting) resolve();
      }
      this.publishing = false;
    })();
    return done;
  }

  async read(): Promise<SharedRollouts | undefined> {
    const text = await this.pub.get(`${this.prefix}state`);
    if (text === null) return undefined;
    const parsed = JSON.parse(text) as { commit?: unknown; rollouts?: unknown };
    if (typeof parsed.commit !== "string" || !Array.isArray(parsed.rollouts)) throw new Error(`${this.prefix}state in Redis is not a rollout state this server reads`);
    return { commit: parsed.commit, rollouts: revived(parsed.rollouts as RolloutRecord[]) };
  }

  noteServed(note: ServedNote): void {
    if (this.notes.length < MAX_NOTES) this.notes.push(note);
  }

  private flushNotes(): void {
    if (this.notes.length === 0 || this.pub.status !== "ready") return;
    const batch = this.notes;
    this.notes = [];
    const key = `${this.prefix}served`;
    this.pub
      .multi()
      .rpush(key, JSON.stringify(batch))
      .ltrim(key, -Math.ceil(MAX_NOTES / 100), -1)
      .exec()
      .catch((err: Error) => {
        this.options.logger.debug({ err: err.message }, "sending served notes failed; they are sent again");
        this.notes = [...batch, ...this.notes].slice(0, MAX_NOTES);
      });
  }

  async drainServed(): Promise<readonly ServedNote[]> {
    const key = `${this.prefix}served`;
    const result = await this.pub.multi().lrange(key, 0, -1).del(key).exec();
    const batches = (result?.[0]?.[1] ?? []) as string[];
    const notes: ServedNote[] = [];
    for (const b of batches) {
      try {
        for (const n of JSON.parse(b) as ServedNote[]) notes.push(n);
      } catch {
        // A batch this version cannot read is skipped: the reports give the same facts a little later.
      }
    }
    return notes;
  }

  forward(name: string, action: OperatorAction, who: string, kind: ConfigKind | undefined): Promise<RolloutRecord> {
    const id = randomUUID();
    const timeoutMs = this.options.forwardTimeoutMs ?? 5000;
    return new Promise<RolloutRecord>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new DomainError("ServerBusy", `No replica that decides the rollouts answered within ${timeoutMs} ms (it holds a lease in Redis; one is chosen within seconds of the last one stopping): try the ${action} again.`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      const m: Message = { t: "act", from: this.id, id, name, action, who, ...(kind ? { kind } : {}) };
      this.pub.publish(this.channel, JSON.stringify(m)).catch((err: Error) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(new DomainError("ServerBusy", `The rollout ${action} could not be sent to the replica that decides the rollouts: Redis is unreachable (${err.message}).`));
      });
    });
  }

  private received(text: string): void {
    let m: Message;
    try {
      m = JSON.parse(text) as Message;
    } catch {
      return;
    }
    if (m.t === "state" && m.from !== this.id) {
      // Adopted at once, so a forwarded action's answer (sent after it on the same connection) finds it served here.
      if (m.state && !this.deciding) this.handlers.onShared({ commit: m.state.commit, rollouts: revived(m.state.rollouts) });
      else this.follow();
    }
    else if (m.t === "act" && this.deciding) this.answer(m);
    else if (m.t === "acted" && m.to === this.id) {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      clearTimeout(w.timer);
      if (m.record) w.resolve(revived([m.record])[0] as RolloutRecord);
      else w.reject(new DomainError(m.error?.code ?? "InternalServerError", m.error?.message ?? "the replica that decides the rollouts failed"));
    }
  }

  /** Reads the shared state and hands it over (one read at a time; a change meanwhile reads again). */
  private follow(): void {
    if (this.deciding) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    void this.read()
      .then((s) => {
        if (s && !this.deciding) this.handlers.onShared(s);
      })
      .catch((err: unknown) => this.options.logger.warn({ err: (err as Error).message }, "reading the shared rollouts failed"))
      .finally(() => {
        this.reading = false;
        if (this.readAgain) {
          this.readAgain = false;
          this.follow();
        }
      });
  }

  private answer(m: Extract<Message, { t: "act" }>): void {
    const reply = (body: Omit<Extract<Message, { t: "acted" }>, "t" | "to" | "id">) =>
      this.pub.publish(this.channel, JSON.stringify({ t: "acted", to: m.from, id: m.id, ...body } satisfies Message)).catch((err: Error) => this.options.logger.warn({ err: err.message }, "answering a forwarded rollout action failed"));
    this.handlers
      .act(m.name, m.action, m.who, m.kind)
      .then((record) => reply({ record }))
      .catch((err: unknown) => reply({ error: err instanceof DomainError ? { code: err.code, message: err.message } : { code: "InternalServerError", message: (err as Error).message } }));
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    this.flushNotes();
    for (const [, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new DomainError("ServerBusy", "The server is shutting down."));
    }
    this.waiting.clear();
    await this.lease.close();
    this.pub.disconnect();
    this.sub.disconnect();
  }
}
