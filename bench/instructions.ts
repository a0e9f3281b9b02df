// Instructions per request of the server, counted by valgrind (callgrind), not timed: a measure
// the machine's load does not move, for A/B comparisons of the agent path on a busy machine (where
// hardware counters are not available to `perf stat`, as on this VM). Each server runs under
// callgrind with counting off; the fleet registers, warm-up passes let the JIT settle, then
// counting is switched on (callgrind_control), every agent of the scenario sends its request once,
// and counting is switched off: user-space instructions (Ir) of every thread of the server, GC and
// JIT compilation included, divided by the requests. The kernel's share (sockets) is not counted.
// Counts vary by a few hundred instructions from run to run (how many requests one read brings,
// when the collector runs): compare medians of several runs.
// BENCH_WARMUP_PASSES (default 6), BENCH_PASSES (default 3), BENCH_KEEP (see below).
// Run: node --import tsx bench/instructions.ts [scenario=heartbeat] [agents=10000] [runs=3] [checkout=.] [checkout…]
//   → per checkout and run: instructions per request; with two checkouts, B÷A of the medians.
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { registerFleet, SCENARIOS, specOf, type ScenarioName } from "./agentFleet.ts";
import { APPLIED, buildRepo } from "./fleet.ts";
import { load, ROOT, type Proc } from "./proc.ts";
import { median } from "./stats.ts";

const NAME = (process.argv[2] ?? "heartbeat") as ScenarioName;
const AGENTS = Number(process.argv[3] ?? 10_000);
const RUNS = Number(process.argv[4] ?? 3);
const CHECKOUTS = process.argv.length > 5 ? process.argv.slice(5) : [ROOT];
// Warm-up by requests, not time: under valgrind and a loaded machine a time would give the JIT a varying number of requests.
const WARMUP_PASSES = Number(process.env.BENCH_WARMUP_PASSES ?? 6);
// Counted passes: every agent's request once per pass.
const PASSES = Number(process.env.BENCH_PASSES ?? 3);
// BENCH_KEEP=<path prefix>: the callgrind dumps are kept as <prefix>-A-1 … (for callgrind_annotate).
const KEEP = process.env.BENCH_KEEP;
// With BENCH_KEEP the server also writes V8's symbol map (/tmp/perf-<pid>.map, kept beside the dump
// as <prefix>-A-1.map): callgrind names JIT code only by address, bench/callgrindDiff.ts resolves it.
const PERF_FLAGS = ["--perf-basic-prof", "--logfile=/dev/null", "--no-logfile-per-isolate"];
const s = SCENARIOS[NAME];
if (!s) throw new Error(`unknown scenario ${NAME}: one of ${Object.keys(SCENARIOS).join(", ")}`);
const log = (...a: unknown[]) => console.error(`[instructions ${new Date().toISOString().slice(11, 19)}]`, ...a);

/** The real server (bin/configserver serve) under callgrind, counting off until asked. */
function startCounted(repo: string, root: string, outDir: string): Promise<Proc> {
  const child = spawn("valgrind", ["--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${join(outDir, "callgrind.out.%p")}`, process.execPath, ...(KEEP ? PERF_FLAGS : []), "bin/configserver", "serve", "--repo", repo, "--port", "0", "--log-level", "info"], {
    cwd: root, stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let rest = "";
    child.stdout.on("data", (d: Buffer) => {
      const parts = (rest + d.toString()).split("\n");
      rest = parts.pop() ?? "";
      for (const text of parts) {
        try {
          const line = JSON.parse(text) as { msg?: string; url?: string };
          if (line.msg === "configserver listening" && line.url) {
            const pid = child.pid as number;
            resolve({ pid, port: Number(new URL(line.url).port), lines: [], waitFor: () => Promise.reject(new Error("not tracked")), stop: () => stop(child) });
          }
        } catch {
          // valgrind's own lines, or not JSON
        }
      }
    });
    child.once("exit", (code) => reject(new Error(`server under valgrind exited (${code}) before listening`)));
  });
}

function stop(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

const control = (...args: string[]) => execFileSync("callgrind_control", args, { encoding: "utf8" });

/** Total Ir of the dumps callgrind wrote in `dir` since the last call (every thread's file). */
function collected(dir: string, seen: Set<string>, keep: string | undefined): number {
  let total = 0;
  for (const f of readdirSync(dir)) {
    if (seen.has(f)) continue;
    seen.add(f);
    const text = readFileSync(join(dir, f), "utf8");
    if (process.env.BENCH_DEBUG) log(f, text.split("\n").filter((l) => /^(summary|totals|events|part|desc)/.test(l)).join(" | "));
    const m = /^totals: (\d+)/m.exec(text);
    total += Number(m?.[1] ?? 0);
    if (keep !== undefined && m) {
      copyFileSync(join(dir, f), keep);
      const pid = /callgrind\.out\.(\d+)/.exec(f)?.[1];
      if (pid !== undefined && existsSync(`/tmp/perf-${pid}.map`)) copyFileSync(`/tmp/perf-${pid}.map`, `${keep}.map`);
    }
  }
  return total;
}

const results: Record<string, number[]> = {};
const work = mkdtempSync(join(tmpdir(), "configserver-instr-"));
buildRepo(join(work, "repo"), { configs: APPLIED, commits: APPLIED });
try {
  for (let run = 0; run < RUNS; run++) {
    // Checkouts alternate run by run (ABAB…), each server fresh.
    for (const checkout of CHECKOUTS) {
      const out = mkdtempSync(join(work, "cg-"));
      const server = await startCounted(join(work, "repo"), checkout, out);
      try {
        const versions = await registerFleet(server, AGENTS, 64, undefined, [NAME]);
        const spec = { ...specOf(s, AGENTS, versions), connections: 64, port: server.port };
        for (let pass = 0; pass < WARMUP_PASSES; pass++) await load({ ...spec, once: true });
        const seen = new Set<string>();
        control("-i", "on", String(server.pid));
        let requests = 0;
        let errors = 0;
        for (let pass = 0; pass < PASSES; pass++) {
          const r = await load({ ...spec, once: true });
          requests += r.requests;
          errors += r.errors;
        }
        control("-i", "off", String(server.pid));
        control("-d", String(server.pid));
        await new Promise((res) => setTimeout(res, 500));
        if (errors) throw new Error(`${errors} errors under load`);
        const ir = collected(out, seen, KEEP ? `${KEEP}-${String.fromCharCode(65 + CHECKOUTS.indexOf(checkout))}-${run + 1}` : undefined);
        const per = ir / requests;
        (results[checkout] ??= []).push(per);
        log(`${checkout}: run ${run + 1}: ${requests} requests, ${ir} instructions, ${Math.round(per)} per request; load ${loadavg()[0]?.toFixed(1)}`);
      } finally {
        await server.stop();
        rmSync(`/tmp/perf-${server.pid}.map`, { force: true });
      }
    }
  }
  for (const [checkout, xs] of Object.entries(results)) console.log(`${NAME} ${checkout}: ${Math.round(median(xs))} instructions/request (runs: ${xs.map(Math.round).join(", ")})`);
  if (CHECKOUTS.length === 2) {
    const [a, b] = CHECKOUTS.map((c) => median(results[c] ?? []));
    console.log(`${NAME}: B÷A instructions/request ${((b as number) / (a as number)).toFixed(3)} (B − A ${Math.round((b as number) - (a as number))})`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
