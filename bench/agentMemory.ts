// Memory per agent, per protocol (BENCHMARKS.md, "Memory per agent"): a fresh server per protocol,
// N agents of that protocol each sending its usual requests twice (the second time is what a
// running fleet looks like: the registry's record, its interned reports, the repeat memory of
// src/protocols/repeats.ts), then RSS and V8 heap used above the idle server, divided by N, read
// once RSS has settled (two readings a second apart within 1 MB). RSS is what the machine pays.
// Run: node --import tsx bench/agentMemory.ts [agents=100000]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { servedVersions } from "./agentFleet.ts";
import { APPLIED, buildRepo } from "./fleet.ts";
import type { BodyKind } from "./loadgen.ts";
import { heapUsed, load, request, settled, startServer } from "./proc.ts";

const AGENTS = Number(process.argv[2] ?? 100_000);
const log = (...a: unknown[]) => console.error(`[memory ${new Date().toISOString().slice(11, 19)}]`, ...a);
const mb = (b: number) => `${Math.round(b / 1048576)} MB`;

/** What each protocol's agent sends every cycle once it runs the served configs. */
const PROTOCOLS: Readonly<Record<string, readonly BodyKind[]>> = {
  "alpha (HeartBeat + GetConfigList, 10 configs)": ["heartbeat", "configList"],
  "v1 (HeartBeat, 10 configs reported)": ["v1heartbeat"],
  "v2 (Heartbeat, 10 configs reported APPLIED)": ["v2heartbeat"],
};


const work = mkdtempSync(join(tmpdir(), "configserver-memory-"));
buildRepo(join(work, "repo"), { configs: APPLIED, commits: APPLIED });
const rows: string[] = [`| protocol | RSS above idle | per agent | V8 heap above idle | per agent |`, "|---|---|---|---|---|"];
try {
  for (const [title, kinds] of Object.entries(PROTOCOLS)) {
    const server = await startServer(join(work, "repo"));
    try {
      // Agent 0 (alpha) tells the served versions; it stays in the idle figure.
      await load({ port: server.port, kind: "heartbeat", agents: 1, connections: 1, once: true });
      const versions = await servedVersions(server.port);
      for (const kind of kinds) await load({ port: server.port, kind, agents: 1, versions, connections: 1, once: true });
      const idle = await settled(server.pid);
      const heapIdle = await heapUsed(server.port);
      log(title, `${AGENTS} agents`);
      for (let round = 0; round < 2; round++) for (const kind of kinds) await load({ port: server.port, kind, agents: AGENTS, versions, connections: 64, once: true });
      const after = await settled(server.pid);
      const heap = await heapUsed(server.port);
      rows.push(`| ${title} | ${mb(after - idle)} (idle ${mb(idle)}) | ${Math.round((after - idle) / AGENTS)} B | ${mb(heap - heapIdle)} | ${Math.round((heap - heapIdle) / AGENTS)} B |`);
    } finally {
      await server.stop();
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`\n${AGENTS.toLocaleString("en")} agents per protocol, each sending its cycle twice\n\n${rows.join("\n")}\n`);
