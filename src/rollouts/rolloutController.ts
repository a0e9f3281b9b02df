import type { AgentRecord } from "../domain/agent.ts";
import { DomainError } from "../domain/errors.ts";
import type { RepoState } from "../domain/repoState.ts";
import { RolloutOverlay } from "../domain/rolloutOverlay.ts";
import { revertedRollout, type RolloutPlan } from "../domain/rolloutPlan.ts";
import { effectivePolicy, type RolloutPolicy } from "../domain/rolloutPolicy.ts";
import { evaluateRollout } from "./evaluateRollout.ts";
import { RolloutAnnouncer } from "./rolloutAnnouncer.ts";
import { RolloutPublisher } from "./rolloutPublisher.ts";
import { writeRevert } from "./writeRevert.ts";
import type { ControllerDeps } from "./controllerDeps.ts";
import { actedOn, revertPending, type OperatorAction } from "./rolloutActions.ts";
import { isActive, keyOf, type RolloutRecord } from "./rolloutRecord.ts";
import { rollingConfigs } from "./rolloutReportsOf.ts";
import { rolloutsAfterCommit } from "./rolloutStarts.ts";
import { mergeShared, type SharedRollouts } from "./sharedRollouts.ts";

export type { ControllerDeps } from "./controllerDeps.ts";
export type { OperatorAction } from "./rolloutActions.ts";

/** Completed rollouts kept for the API, besides the ones in progress. */
const KEEP_COMPLETED = 100;

/**
 * Runs the rollouts of one server process: starts them when a commit changes a config with a
 * policy (rolloutStarts.ts), serves each agent by its wave (an overlay on the served snapshot,
 * rolloutOverlay.ts), evaluates the wave plan on a timer and acts on it (advance, halt, the revert
 * commit), and keeps everything in a state file so a restart resumes where it stood. One process
 * owns the decisions: with --workers the primary (its workers get the overlay), with replicas on
 * one Redis the one holding the lease (the others get its records: sharedRollouts.ts).
 */
export class RolloutController {
  private rollouts = new Map<string, RolloutRecord>();
  private readonly plans = new Map<string, RolloutPlan>();
  private timer: NodeJS.Timeout | undefined;
  private evaluating = false;
  private stopped = false;
  private dirty = false;
  private readonly now: () => number;
  /** When this process started: its registry may not have heard yet from agents that received a new version before. */
  private readonly startedAt: number;
  private readonly live = (id: string): boolean => this.deps.registry.get(id) !== undefined;
  /** Agents served a new version since the last evaluation (rollout key → instance id → when). */
  private served = new Map<string, Map<string, number>>();
  private readonly announcer: RolloutAnnouncer;
  /** With sharing: this replica took over the shared records after it got the lease (see lead()). */
  private leading = false;
  private readonly publisher: RolloutPublisher | undefined;
  /** What the last evaluation held the event loop for, in all (its rollouts one at a time). */
  private busyMs = 0;
  /** Evaluations and revert commits under way (see settled()). */
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: ControllerDeps) {
    this.now = deps.now ?? Date.now;
    this.startedAt = this.now();
    for (const r of deps.file.load()) this.rollouts.set(keyOf(r.kind, r.name), r);
    this.announcer = new RolloutAnnouncer(deps.emit, (r) => this.policyOf(r));
    // What the state file holds was announced before the restart.
    this.announcer.announcedAs(this.rollouts);
    this.publisher = deps.sharing && new RolloutPublisher(deps.sharing);
  }

  /** Serves the loaded state on the current snapshot and starts evaluating. */
  start(): void {
    // The lease may have been taken before this controller existed (its handler found none to tell).
    const sharing = this.deps.sharing;
    if (sharing?.deciding && !this.leading) void sharing.read().catch(() => undefined).then((s) => this.leading || this.lead(s ?? undefined));
    this.applyOverlay(this.deps.store.state);
    this.schedule(this.deps.intervalMs ?? 200);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.dirty) this.save();
  }

  /** Whether this process evaluates the plans and acts (always, unless a replica holding the lease does). */
  get deciding(): boolean {
    return this.deps.sharing === undefined || (this.deps.sharing.deciding && this.leading);
  }

  /**
   * This replica got the lease: it continues from the records last shared (what the replica that
   * decided before announced is not announced again), then evaluates as the only one deciding.
   */
  lead(shared: SharedRollouts | undefined): void {
    if (shared) {
      this.rollouts = mergeShared(this.rollouts, shared, this.deps.store.state);
      this.announcer.announcedAs(shared.rollouts.map((r) => [keyOf(r.kind, r.name), r] as const));
      this.plans.clear();
      this.applyOverlay(this.deps.store.state);
    }
    this.leading = true;
    this.publisher?.forget();
    this.save();
  }

  /** Another replica decides now: this one serves what it shares. */
  follow(): void {
    this.leading = false;
    this.plans.clear();
    this.served.clear();
  }

  /** The deciding replica shared its records: they are served from now on (see mergeShared). */
  adopt(shared: SharedRollouts): void {
    if (this.deciding) return;
    this.rollouts = mergeShared(this.rollouts, shared, this.deps.store.state);
    // Events are the deciding replica's to send; this one must not repeat them if it decides later.
    this.announcer.announcedAs(this.rollouts);
    this.applyOverlay(this.deps.store.state);
  }

  /**
   * Settles once the evaluation under way and the revert commits in flight are done, with their
   * events emitted (after stop(): the server closes the notifier only then, so none is dropped).
   */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /**
   * A new commit is served: called synchronously before any agent is answered from it, so no agent
   * ever sees the new content outside its wave.
   */
  onServed(state: RepoState, previous: RepoState): void {
    const next = rolloutsAfterCommit(this.rollouts, state, previous, this.now());
    let changed = false;
    for (const [key, r] of next) {
      if (this.rollouts.get(key) === r) continue;
      changed = true;
      this.plans.delete(key);
      this.served.delete(key);
      const last = r.history[r.history.length - 1];
      this.deps.logger.info({ config: r.name, kind: r.kind, status: r.progress.status, from: r.from?.version, to: r.to.version }, `rollout: ${last?.action ?? "updated"}${last?.detail ? `: ${last.detail}` : ""}`);
    }
    if (changed) {
      this.rollouts = next;
      this.prune();
      this.save();
    }
    this.applyOverlay(state);
  }

  /**
   * Serves what the rollouts now say, after the other replicas were sent it (with a little time to
   * take it in): an agent this replica moves to a new wave must not be moved back by another that
   * has not heard yet. Halts do not wait (halted() serves at once): stopping a bad version comes first.
   */
  private async serveShared(): Promise<void> {
    if (this.publisher && this.deciding) await this.publisher.sent();
    this.applyOverlay(this.deps.store.state);
  }

  /** Shares the records with the other replicas (the deciding replica only). */
  private share(): void {
    if (this.deciding) this.publisher?.share(this.deps.store.state.commit, [...this.rollouts.values()], (r) => this.withCounts(r));
  }

  list(): RolloutRecord[] {
    return [...this.rollouts.values()].map((r) => this.withCounts(r)).sort((a, b) => b.progress.startedAt - a.progress.startedAt || (a.name < b.name ? -1 : 1));
  }

  find(name: string, kind?: "pipeline" | "instance"): RolloutRecord | undefined {
    const r = kind ? this.rollouts.get(keyOf(kind, name)) : (this.rollouts.get(keyOf("pipeline", name)) ?? this.rollouts.get(keyOf("instance", name)));
    return r && this.withCounts(r);
  }

  /** An operator's action on the rollout of `name`; `who` is recorded in its history. */
  async act(name: string, action: OperatorAction, who: string, kind?: "pipeline" | "instance"): Promise<RolloutRecord> {
    if (this.deps.sharing && !this.deciding) return this.deps.sharing.forward(name, action, who, kind);
    const found = this.find(name, kind);
    if (!found) throw new DomainError("ConfigNotExist", `No rollout of config ${name}: GET /api/v1/rollouts lists them.`);
    const key = keyOf(found.kind, found.name);
    const r = this.rollouts.get(key) as RolloutRecord;
    const now = this.now();
    this.update(key, actedOn(r, action, who, this.policyOf(r), this.plans.get(key)?.failed ?? 0, now));
    if (action === "abort") this.halted(key, (this.rollouts.get(key) as RolloutRecord).progress.haltReason ?? `aborted by ${who}`);
    this.save();
    await this.serveShared();
    return this.find(found.name, found.kind) as RolloutRecord;
  }

  /**
   * The next evaluation after `ms`; an evaluation that took long (a large fleet, many rollouts)
   * spaces the next ones out, so they never take more than a twentieth of the process's time: the
   * agents come first (10 rollouts over 40,000 agents: BENCHMARKS.md, "Rollouts").
   */
  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = performance.now();
      const evaluation = this.evaluate();
      this.track(evaluation);
      void evaluation.finally(() => this.schedule(Math.max(this.deps.intervalMs ?? 200, 19 * Math.min(this.busyMs, performance.now() - started))));
    }, ms);
    this.timer.unref();
  }

  /**
   * A restart with an in-memory registry knows no agent until it heartbeats again: one that had
   * received a new version is waited for, not counted gone, until a TTL after the start (never
   * gone with agents that never expire).
   */
  private unheardUntil(): number {
    const ttl = this.deps.registry.ttlMs;
    return ttl <= 0 ? Infinity : this.startedAt + ttl;
  }

  /** One evaluation of every rollout in progress; acts on what the plans say. */
  async evaluate(): Promise<void> {
    if (this.evaluating || !this.deciding) return;
    this.evaluating = true;
    try {
      if (this.deps.sharing) for (const [kind, name, id, at] of await this.deps.sharing.drainServed()) this.noteServed(kind, name, id, at);
      const waving = [...this.rollouts.entries()].filter(([, r]) => isActive(r) && r.mode === "waves");
      if (waving.length === 0) return;
      let began = performance.now();
      const agents: AgentRecord[] = [];
      await this.deps.registry.each((a) => agents.push(a));
      const state = this.deps.store.state;
      let overlayChanged = false;
      let busy = 0;
      for (const [i, [key, r0]] of waving.entries()) {
        if (i > 0) {
          // One rollout at a time holds the event loop (tens of ms at 40,000 agents), not all of them:
          // agents are answered in between.
          busy += performance.now() - began;
          await new Promise((resolve) => setImmediate(resolve));
          began = performance.now();
          // A new commit was served meanwhile: the next evaluation looks at it.
          if (this.deps.store.state !== state) break;
        }
        // The map may have moved on while the fleet was read (a commit, an operator).
        if (this.rollouts.get(key) !== r0) continue;
        const policy = this.policyOf(r0);
        if (!policy) continue;
        const nowMs = this.now();
        const sent = this.served.get(key);
        this.served.delete(key);
        const { record: r, plan, overlayChanged: moved, events } = evaluateRollout({ state, policy, record: r0, agents, live: this.live, unheardUntil: this.unheardUntil(), served: sent, nowMs, ttlMs: this.deps.registry.ttlMs });
        this.plans.set(key, plan);
        if (moved) overlayChanged = true;
        for (const e of events) this.deps.logger[e.action === "halted" ? "warn" : "info"]({ config: r.name, kind: r.kind }, `rollout ${e.action}: ${e.detail ?? ""}`);
        if (r !== r0) {
          this.rollouts.set(key, { ...r, waves: plan.waves, failures: plan.failures });
          this.dirty = true;
        }
        if (plan.action === "halt-revert") this.halted(key, plan.progress.haltReason ?? "halted");
      }
      this.busyMs = busy + performance.now() - began;
      this.deps.onEvaluated?.(this.busyMs);
      if (this.dirty) this.save();
      else this.share();
      if (overlayChanged) await this.serveShared();
    } catch (err) {
      this.deps.logger.error({ err }, "evaluating the rollouts failed; retrying at the next interval");
    } finally {
      this.evaluating = false;
    }
  }

  /**
   * A halt with onHalt: revert (or an abort): everyone is served the version that last reached
   * them at once (pinned), then the revert commit is made, unless the server cannot write.
   */
  private halted(key: string, why: string): void {
    const r = this.rollouts.get(key) as RolloutRecord;
    const pinned: RolloutRecord = { ...r, mode: "pinned" };
    const pending = revertPending(this.deps.readOnly);
    this.rollouts.set(key, pending ? { ...pinned, revertPending: pending, history: [...r.history, { at: this.now(), who: "server", action: "revert-pending", detail: pending }] } : pinned);
    this.applyOverlay(this.deps.store.state);
    this.save();
    if (pending) {
      this.deps.logger.warn({ config: r.name }, pending);
      return;
    }
    const plan = this.plans.get(key);
    this.track(writeRevert(this.deps.store, r, plan, why)
      .then((result) => {
        const now = this.rollouts.get(key);
        if (!now || now.mode !== "pinned") return;
        if (now.progress.status !== "reverted") {
          // The commit is served by now (onServed marked it); without a commit the content already was the previous one.
          this.update(key, { ...now, progress: revertedRollout(now.progress, this.now()), revertCommit: result.commit ?? now.revertCommit, history: [...now.history, { at: this.now(), who: "server", action: "reverted", detail: result.commit ? `revert commit ${result.commit.slice(0, 12)}` : "nothing to commit" }] });
          this.save();
        }
        this.deps.logger.warn({ config: r.name, commit: result.commit }, "rollout reverted");
      })
      .catch((err: unknown) => {
        const now = this.rollouts.get(key);
        const detail = `revert pending: the revert commit failed (${(err as Error).message}); the previous version is served to every agent`;
        if (now) this.update(key, { ...now, revertPending: detail, history: [...now.history, { at: this.now(), who: "server", action: "revert-failed", detail }] });
        this.save();
        this.deps.logger.error({ err, config: r.name }, "the revert commit failed");
      }));
  }

  /** Keeps `p` until it settles, so stopping can wait for what it still announces. */
  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private update(key: string, r: RolloutRecord): void {
    this.rollouts.set(key, r);
    this.dirty = true;
  }

  private policyOf(r: RolloutRecord): RolloutPolicy | undefined {
    const state = this.deps.store.state;
    const config = r.kind === "pipeline" ? state.configs.get(r.name) : state.instanceConfigs.get(r.name);
    return config ? effectivePolicy(config, state.rollout) : r.removalPolicy;
  }

  private withCounts(r: RolloutRecord): RolloutRecord {
    const plan = this.plans.get(keyOf(r.kind, r.name));
    return plan ? { ...r, waves: plan.waves, failures: plan.failures } : r;
  }

  /** What the agents are served: the snapshot, with every rollout in progress laid over it. */
  private applyOverlay(state: RepoState): void {
    const entries = rollingConfigs(this.rollouts.values(), (r) => this.policyOf(r));
    state.setRollouts(new RolloutOverlay(entries, (kind, name, id) => this.noteServed(kind, name, id)));
    this.deps.onOverlay?.(entries);
  }

  /** An agent of the current waves was first served the new version (here, or by a worker process). */
  noteServed(kind: "pipeline" | "instance", name: string, id: string, at = this.now()): void {
    if (this.deps.sharing && !this.deciding) return this.deps.sharing.noteServed([kind, name, id, at]);
    const key = keyOf(kind, name);
    let m = this.served.get(key);
    if (!m) this.served.set(key, (m = new Map()));
    if (!m.has(id)) m.set(id, at);
  }

  private prune(): void {
    const done = [...this.rollouts.entries()].filter(([, r]) => !isActive(r)).sort(([, a], [, b]) => (b.progress.endedAt ?? 0) - (a.progress.endedAt ?? 0));
    for (const [key] of done.slice(KEEP_COMPLETED)) this.rollouts.delete(key);
  }

  private save(): void {
    // A replica that does not decide keeps nothing: the deciding one's file and shared records are the truth.
    if (!this.deciding) return;
    this.announcer.announce(this.rollouts);
    this.share();
    try {
      this.deps.file.save([...this.rollouts.values()].map(({ waves: _w, failures: _f, ...r }) => r));
      this.dirty = false;
    } catch (err) {
      this.deps.logger.error({ err }, "saving the rollout state failed; retrying at the next change");
    }
  }
}
