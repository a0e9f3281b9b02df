import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { redisClient } from "./connect.ts";

/** What one replica tells the others: it serves a new commit, or a push webhook arrived. */
export interface Announcement {
  readonly from: string;
  readonly kind: "commit" | "webhook";
  /** The commit now served (kind "commit"). */
  readonly commit?: string;
}

export interface FanoutOptions {
  readonly url: string;
  readonly logger: Logger;
  /** Default "cs:commits". */
  readonly channel?: string;
  /** Another replica announced something (never called for this replica's own announcements). */
  readonly onAnnouncement: (a: Announcement) => void;
  /** The subscription is (re)established: announcements may have been missed meanwhile. */
  readonly onResubscribed?: () => void;
}

/**
 * Commits fanned out over Redis pub/sub: every replica follows the same remote, and a replica
 * that pushed a commit (or received a push webhook) says so at once, so the others fetch now
 * instead of at their next poll. Best effort by design: a lost message costs one poll
 * interval, never a commit (the remote is the truth).
 */
export class CommitFanout {
  readonly id = randomUUID();
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly channel: string;

  constructor(private readonly options: FanoutOptions) {
    this.channel = options.channel ?? "cs:commits";
    this.pub = redisClient(options.url, "publish", options.logger);
    // A subscribed connection can do nothing else: its own connection, which may queue its SUBSCRIBE.
    this.sub = redisClient(options.url, "subscribe", options.logger, { queue: true });
    let subscribedOnce = false;
    this.sub.on("ready", () => {
      if (subscribedOnce) options.onResubscribed?.();
      subscribedOnce = true;
    });
    this.sub.subscribe(this.channel).catch((err: Error) => options.logger.warn({ err: err.message }, "subscribing to commit announcements failed"));
    this.sub.on("message", (channel: string, text: string) => {
      if (channel !== this.channel) return;
      let a: Announcement;
      try {
        a = JSON.parse(text) as Announcement;
      } catch {
        return;
      }
      if (a.from !== this.id && (a.kind === "commit" || a.kind === "webhook")) options.onAnnouncement(a);
    });
  }

  /** Tells the other replicas; never throws, never waits. */
  announce(kind: Announcement["kind"], commit?: string): void {
    if (this.pub.status !== "ready") return;
    const a: Announcement = commit === undefined ? { from: this.id, kind } : { from: this.id, kind, commit };
    this.pub.publish(this.channel, JSON.stringify(a)).catch((err: Error) => this.options.logger.debug({ err: err.message }, "announcing a commit failed"));
  }

  close(): void {
    this.pub.disconnect();
    this.sub.disconnect();
  }
}
