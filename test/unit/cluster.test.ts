import { EventEmitter } from "node:events";
import test from "ava";
import { pino } from "pino";
import { coalesced } from "../../src/agents/coalesced.ts";
import { encodeBatch } from "../../src/agents/replication.ts";
import { ChangeRelay } from "../../src/cluster/changeRelay.ts";
import { CommitBarrier } from "../../src/cluster/commitBarrier.ts";
import { OrderedChannel } from "../../src/cluster/orderedChannel.ts";
import { respawnDelay, WorkerPool, type ForkedWorker } from "../../src/cluster/workerPool.ts";
import type { ChangeBatch } from "../../src/agents/replication.ts";
import { Part } from "../../src/agents/agentCodec.ts";
import { MemoryRegistry } from "../../src/agents/memoryRegistry.ts";
import type { AgentRecord } from "../../src/domain/agent.ts";

// Unit tests (internals) of the primary's pieces (src/cluster/): the worker pool, the ordered
// channel, the commit barrier, the change relay and the coalesced flush, with fake workers and
// fake channels. test/workers.test.ts runs them together in the real processes.

const silent = pino({ level: "silent" });

// ---- the ordered channel ----

test("a call's answer is matched by its number, whatever order answers come in", async (t) => {
  const sent: { n: number; q: string }[] = [];
  const ch = new OrderedChannel<{ n: number; q: string }>((m) => sent.push(m));
  const a = ch.call<string>((n) => ({ n, q: "a" }), 10_000);
  const b = ch.call<string>((n) => ({ n, q: "b" }), 10_000);
  t.deepEqual(sent.map((m) => m.q), ["a", "b"], "sent in call order");
  t.not(sent[0]?.n, sent[1]?.n);
  ch.answer(sent[1]?.n as number, "to b");
  ch.answer(sent[0]?.n as number, "to a");
  t.deepEqual(await Promise.all([a, b]), ["to a", "to b"]);
  t.is(ch.open, 0);
});

test("an unanswered call resolves undefined after its bound; a late answer, or one to an unknown number, is ignored", async (t) => {
  const sent: number[] = [];
  const ch = new OrderedChannel<number>((n) => sent.push(n));
  const late = ch.call<string>((n) => n, 20);
  t.is(await late, undefined);
  t.is(ch.open, 0);
  ch.answer(sent[0] as number, "too late");
  ch.answer(999, "nobody asked");
  const next = ch.call<string>((n) => n, 10_000);
  ch.answer(sent[1] as number, "on time");
  t.is(await next, "on time");
});

test("close() resolves every call out undefined at once (the other end is gone)", async (t) => {
  const ch = new OrderedChannel<number>(() => undefined);
  const calls = [ch.call((n) => n, 60_000), ch.call((n) => n, 60_000)];
  t.is(ch.open, 2);
  ch.close();
  t.deepEqual(await Promise.all(calls), [undefined, undefined]);
  t.is(ch.open, 0);
});

test("send() puts plain messages on the channel in order", (t) => {
  const sent: string[] = [];
  const ch = new OrderedChannel<string>((m) => sent.push(m));
  ch.send("x");
  ch.send("y");
  t.deepEqual(sent, ["x", "y"]);
});

// ---- the commit barrier ----

test("the barrier waits until every live worker serves the commit, and lets go at once when they already do", async (t) => {
  let served: (string | null)[] = ["c1", null];
  const late: string[] = [];
  const barrier = new CommitBarrier({ served: () => served, boundMs: 60_000, onLate: (c) => late.push(c) });
  let passed = false;
  const waiting = barrier.wait("c2").then(() => (passed = true));
  served = ["c2", "c1"];
  barrier.recheck();
  await Promise.resolve();
  t.false(passed, "one worker still serves c1");
  t.is(barrier.waiting, 1);
  served = ["c2", "c2"];
  barrier.recheck();
  await waiting;
  t.true(passed);
  t.is(barrier.waiting, 0);
  t.deepEqual(late, []);
  await barrier.wait("c2");
  t.pass("already served: no wait");
});

test("the barrier lets go after its bound, saying which commit was late; a worker that left no longer counts", async (t) => {
  let served: (string | null)[] = ["c1", "c0"];
  const late: string[] = [];
  const barrier = new CommitBarrier({ served: () => served, boundMs: 20, onLate: (c) => late.push(c) });
  await barrier.wait("c1");
  t.deepEqual(late, ["c1"]);
  t.is(barrier.waiting, 0);
  const b2 = new CommitBarrier({ served: () => served, boundMs: 60_000, onLate: (c) => late.push(c) });
  const waiting = b2.wait("c1");
  served = ["c1"];
  b2.recheck();
  await waiting;
  t.deepEqual(late, ["c1"], "not late: the stuck worker exited");
});

// ---- the worker pool ----

class FakeWorker extends EventEmitter implements ForkedWorker {
  killed: string[] = [];
  readonly process;
  constructor(readonly id: number) {
    super();
    this.process = { pid: 1000 + id, kill: (signal?: NodeJS.Signals) => this.killed.push(signal ?? "SIGTERM") > 0 };
  }
  dead = false;
  die(code: number | null, signal: string | null = null): void {
    this.dead = true;
    this.emit("exit", code, signal);
  }
  isDead(): boolean {
    return this.dead;
  }
}

function pool(options: { now?: () => number } = {}) {
  const forked: FakeWorker[] = [];
  const exits: [number, string, boolean][] = [];
  const delays: number[] = [];
  let id = 0;
  const p: WorkerPool<FakeWorker> = new WorkerPool<FakeWorker>({
    fork: () => new FakeWorker(++id),
    logger: silent,
    onFork: (w) => forked.push(w),
    onExit: (w, how, replacing) => exits.push([w.id, how, replacing]),
    later: (run, ms) => {
      delays.push(ms);
      run();
    },
    ...options,
  });
  return { p, forked, exits, delays };
}

test("the pool forks the workers asked for; a death while starting is not replaced (a failed start)", (t) => {
  const { p, forked, exits } = pool();
  p.start(2);
  t.deepEqual(forked.map((w) => w.id), [1, 2]);
  t.deepEqual([...p.workers.keys()], [1, 2]);
  forked[0]?.die(1);
  t.deepEqual(exits, [[1, "exited (1)", false]]);
  t.is(forked.length, 2, "no replacement");
  t.deepEqual([...p.workers.keys()], [2]);
});

test("once running, a dead worker is replaced (restarts counted); once stopping, it is not", (t) => {
  const { p, forked, exits } = pool();
  p.start(2);
  p.running();
  forked[1]?.die(null, "SIGKILL");
  t.deepEqual(exits, [[2, "was killed (SIGKILL)", true]]);
  t.deepEqual(forked.map((w) => w.id), [1, 2, 3]);
  t.deepEqual([...p.workers.keys()].sort(), [1, 3]);
  t.is(p.restarts, 1);
  p.stop();
  forked[0]?.die(0);
  t.deepEqual(exits.at(-1), [1, "exited (0)", false]);
  t.is(forked.length, 3);
  p.killAll();
  t.deepEqual(forked[2]?.killed, ["SIGKILL"]);
  t.deepEqual(forked[0]?.killed, [], "a dead worker is not killed again");
});

test("a worker that keeps dying is replaced after a growing pause; deaths older than a minute are forgotten", (t) => {
  let now = 0;
  const { p, forked, delays } = pool({ now: () => now });
  p.start(1);
  p.running();
  for (let i = 0; i < 9; i++) forked.at(-1)?.die(1);
  t.deepEqual(delays, [0, 0, 0, 500, 1000, 2000, 4000, 8000, 16_000]);
  now += 61_000;
  forked.at(-1)?.die(1);
  t.is(delays.at(-1), 0, "a minute later the pause starts over");
  t.is(p.restarts, 10);
  t.is(respawnDelay(20), 30_000, "bounded");
});

test("shutdown tells every worker to stop, replaces none, and resolves once all exited; one still running past the bound is killed", async (t) => {
  const { p, forked, exits } = pool();
  p.start(3);
  p.running();
  const told: number[] = [];
  const done = p.shutdown(10, (w) => {
    told.push(w.id);
    // Two stop by themselves; the third ignores the request until it is killed.
    if (w.id !== 3) setImmediate(() => w.die(0));
    else w.process.kill = (signal) => {
      setImmediate(() => w.die(null, signal ?? "SIGTERM"));
      return true;
    };
  });
  await done;
  t.deepEqual(told, [1, 2, 3]);
  t.deepEqual(exits.map(([id, how, replacing]) => [id, how, replacing]), [[1, "exited (0)", false], [2, "exited (0)", false], [3, "was killed (SIGKILL)", false]]);
  t.is(forked.length, 3, "none replaced");
  t.is(p.workers.size, 0);
});

// ---- the change relay and the coalesced flush ----

/** A record as a registry holds it (one known from its statistics). */
const record = (agentId: string): AgentRecord => {
  const r = new MemoryRegistry();
  r.statistics(agentId, { cpu: 0, memory: "0", extras: {} });
  return r.findLocal(agentId) as AgentRecord;
};

test("the relay passes what the agent path reads on at once, to the others only; times wait for the timer or the sender's exit", (t) => {
  const out: [number | undefined, ChangeBatch][] = [];
  const relay = new ChangeRelay((except, batch) => out.push([except, batch]));
  relay.received(1, encodeBatch([[record("a"), Part.H]]));
  t.is(out.length, 1);
  t.is(out[0]?.[0], 1, "not back to the sender");
  t.deepEqual(out[0]?.[1].records.map((r) => r[0]), ["a"]);
  relay.received(1, encodeBatch([[record("b"), 0]]));
  relay.received(2, encodeBatch([[record("c"), 0]]));
  t.is(out.length, 1, "times are deferred");
  relay.relayDeferred();
  t.deepEqual(out.slice(1).map(([from, b]) => [from, b.times.includes("\x1fb"), b.times.includes("\x1fc")]), [[1, true, false], [2, false, true]]);
  relay.received(2, encodeBatch([[record("d"), 0]]));
  relay.gone(2);
  t.is(out.at(-1)?.[0], undefined, "a dead worker's deferred changes go to every live worker");
  t.true(out.at(-1)?.[1].times.includes("\x1fd"));
  relay.gone(2);
  relay.relayDeferred();
  t.is(out.length, 4, "nothing twice");
});

test("coalesced: one run at a time; calls during a run share one more run after it", async (t) => {
  let runs = 0;
  const gates: (() => void)[] = [];
  const flush = coalesced(() => new Promise<number>((resolve) => gates.push(() => resolve(++runs))));
  const first = flush();
  const second = flush();
  const third = flush();
  t.is(gates.length, 1, "one run at a time");
  gates[0]?.();
  t.is(await first, 1);
  await new Promise((r) => setImmediate(r));
  t.is(gates.length, 2, "one more run for the calls made meanwhile");
  gates[1]?.();
  t.deepEqual(await Promise.all([second, third]), [2, 2]);
});
