import type { Logger } from "pino";
import type { RedisRegistry } from "../agents/redisRegistry.ts";
import { CommitFanout } from "../redis/commitFanout.ts";
import { COMMAND_TIMEOUT_MS } from "../redis/connect.ts";
import { redactUrl } from "../redis/redactUrl.ts";
import { RedisRollouts } from "../rollouts/redisRollouts.ts";
import type { RolloutController } from "../rollouts/rolloutController.ts";

export interface ReplicaLinksDeps {
  readonly url: string;
  readonly registry: RedisRegistry;
  readonly logger: Logger;
  readonly store: { readonly state: { readonly commit: string } };
  readonly scheduler: { trigger(): Promise<unknown> };
  /** The rollout controller, once made (it is made after the links: it is given `sharing`). */
  readonly rollouts: () => RolloutController | undefined;
}

/**
 * What ties a replica to the others on one Redis, besides the shared registry: commit
 * announcements (a commit or a webhook on one replica makes the others fetch now), and the
 * rollouts, decided by one replica at a time and served the same by all (docs/rollouts.md).
 */
export async function linkReplicas(deps: ReplicaLinksDeps): Promise<{ fanout: CommitFanout; sharing: RedisRollouts }> {
  const { url, logger, store, scheduler } = deps;
  // A healthy start lists the shared fleet from the first request; an unreachable Redis only delays the start a little.
  if (!(await deps.registry.connected(COMMAND_TIMEOUT_MS))) logger.warn({ registry: redactUrl(url) }, "Redis is unreachable at start: serving agents, with a degraded fleet view until it is back");
  const fanout = new CommitFanout({
    url,
    logger,
    onAnnouncement: (a) => {
      if (a.kind === "commit" && a.commit === store.state.commit) return;
      logger.info({ kind: a.kind, commit: a.commit }, "another replica announced a change; syncing");
      void scheduler.trigger();
    },
    // Announcements sent while this replica was cut off from Redis are lost: look now.
    onResubscribed: () => void scheduler.trigger(),
  });
  const sharing: RedisRollouts = new RedisRollouts({ url, logger }, {
    onDeciding: () =>
      void sharing
        .read()
        .catch((err: unknown) => logger.warn({ err: (err as Error).message }, "reading the shared rollouts failed; continuing from this replica's own"))
        .then((s) => deps.rollouts()?.lead(s ?? undefined)),
    onFollowing: () => deps.rollouts()?.follow(),
    onShared: (s) => deps.rollouts()?.adopt(s),
    act: async (name, action, who, kind) => {
      const controller = deps.rollouts();
      if (!controller) throw new Error("the rollouts are not started yet");
      return controller.act(name, action, who, kind);
    },
  });
  logger.info({ registry: redactUrl(url) }, "agents are shared through Redis; commits are announced to the other replicas; one replica decides the rollouts");
  return { fanout, sharing };
}
