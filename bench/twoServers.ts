// Two servers writing to one remote (BENCHMARKS.md "Two servers on one remote"): each server has
// its own clone of a local bare repository and one client sending UpdateConfig back to back, each
// to configs only its server writes (so no write is a true conflict). Reports, per server, how
// many writes were acknowledged and how many refused, and the refusal rate over both.
//
//   node --import tsx bench/twoServers.ts [seconds=30] [clients per server=1] [servers=2]
//
// With servers=1 it measures what the fairness pauses cost a server that writes alone.
//
// Prints one JSON line with the figures (and a human summary on stderr).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configserver } from "../src/gen/proto.js";
import { buildRepo, git } from "./fleet.ts";
import { request, ROOT, startServer } from "./proc.ts";

const pb = configserver.proto;
const seconds = Number(process.argv[2] ?? 30);
const clients = Number(process.argv[3] ?? 1);
const serverCount = Number(process.argv[4] ?? 2);
const log = (...a: unknown[]) => console.error(`[two-servers ${new Date().toISOString().slice(11, 19)}]`, ...a);

const work = mkdtempSync(join(tmpdir(), "configserver-two-"));
const template = join(work, "template");
buildRepo(template, { configs: 100, commits: 10 });
const bare = join(work, "remote.git");
git(work, ["clone", "-q", "--bare", template, bare]);

interface Tally {
  ok: number;
  codes: Record<string, number>;
  latencies: number[];
  /** First words of each refusal message, counted: why writes were refused. */
  reasons: Record<string, number>;
}

async function writer(port: number, server: number, client: number, until: number, tally: Tally): Promise<void> {
  for (let n = 0; performance.now() < until; n++) {
    // Server s, client c writes cfg-<s><c>… : configs of the template, disjoint per writer.
    const name = `cfg-${String(server * 50 + client * 10 + (n % 10)).padStart(4, "0")}`;
    const body = pb.UpdateConfigRequest.encode({ config_detail: { config_name: name, agent_type: "ilogtail", content: `s${server} c${client} n${n}\n` } }).finish();
    const t = performance.now();
    const r = await request(port, "PUT", "/User/UpdateConfig", body);
    tally.latencies.push(performance.now() - t);
    const answer = pb.UpdateConfigResponse.decode(r.body);
    const code = answer.code ?? String(r.status);
    if (r.status === 200) tally.ok++;
    else {
      tally.codes[code] = (tally.codes[code] ?? 0) + 1;
      const reason = (answer.message ?? "").replace(/[0-9a-f]{12,}/g, "…").slice(0, 400);
      tally.reasons[reason] = (tally.reasons[reason] ?? 0) + 1;
    }
  }
}

const servers = await Promise.all(Array.from({ length: serverCount }, (_, s) => s).map((s) => startServer(join(work, `clone-${s}`), [], ROOT, ["--remote", `file://${bare}`, "--sync-interval", "1h"])));
const tallies: Tally[] = servers.map(() => ({ ok: 0, codes: {}, latencies: [], reasons: {} }));
try {
  const until = performance.now() + seconds * 1000;
  await Promise.all(servers.flatMap((s, i) => Array.from({ length: clients }, (_, c) => writer(s.port, i, c, until, tallies[i] as Tally))));
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}
const total = tallies.reduce((n, t) => n + t.ok + Object.values(t.codes).reduce((a, b) => a + b, 0), 0);
const refused = tallies.reduce((n, t) => n + Object.values(t.codes).reduce((a, b) => a + b, 0), 0);
const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;
const perServer = tallies.map((t, i) => {
  const all = t.ok + Object.values(t.codes).reduce((a, b) => a + b, 0);
  return { server: i, acked: t.ok, refused: t.codes, reasons: t.reasons, refusalRate: all ? (all - t.ok) / all : 0, p50ms: Math.round(p(t.latencies, 0.5)), p99ms: Math.round(p(t.latencies, 0.99)) };
});
const commits = Number(git(bare, ["rev-list", "--count", "main"]).trim());
const result = { seconds, servers: serverCount, clientsPerServer: clients, writes: total, refused, refusalRate: total ? refused / total : 0, ackedPerSecond: (total - refused) / seconds, commitsOnRemote: commits, perServer };
for (const s of perServer) log(`server ${s.server}: ${s.acked} acknowledged, refused ${JSON.stringify(s.refused)} (${(s.refusalRate * 100).toFixed(1)} %), p50 ${s.p50ms} ms, p99 ${s.p99ms} ms`);
log(`overall: ${total} writes, ${refused} refused (${(result.refusalRate * 100).toFixed(1)} %), ${result.ackedPerSecond.toFixed(1)} acknowledged/s`);
console.log(JSON.stringify(result));
rmSync(work, { recursive: true, force: true });
