// Child processes of the benchmark: the real server, the baseline and the load generator.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request as httpRequest } from "node:http";
import { fileURLToPath } from "node:url";
import type { LoadResult, LoadSpec } from "./loadgen.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface Proc {
  readonly pid: number;
  readonly port: number;
  /** Parsed JSON log lines the process printed so far. */
  readonly lines: Record<string, unknown>[];
  /** Resolves with the first line (already printed or future) that matches. */
  waitFor(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

function track(child: ChildProcess, ready: (line: Record<string, unknown>) => number | undefined, what: string): Promise<Proc> {
  const lines: Record<string, unknown>[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let stderr = "";
  let rest = "";
  // BENCH_ECHO_STDERR=1: the processes' stderr is passed through too (to watch a server while it is loaded).
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (process.env.BENCH_ECHO_STDERR) process.stderr.write(d);
  });
  return new Promise((resolve, reject) => {
    let port: number | undefined;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    const proc: Omit<Proc, "port"> = {
      pid: child.pid as number,
      lines,
      waitFor: (match, timeoutMs = 10_000) => {
        const hit = lines.find(match);
        if (hit) return Promise.resolve(hit);
        return new Promise((res, rej) => {
          const timer = setTimeout(() => rej(new Error(`${what}: no matching log line within ${timeoutMs} ms`)), timeoutMs);
          waiters.push({ match, resolve: (l) => (clearTimeout(timer), res(l)) });
        });
      },
      stop: async () => {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(t);
      },
    };
    child.stdout?.on("data", (d: Buffer) => {
      const parts = (rest + d.toString()).split("\n");
      rest = parts.pop() ?? "";
      for (const text of parts) {
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(text) as Record<string, unknown>;
        } catch {
          continue;
        }
        lines.push(line);
        for (const w of [...waiters]) if (w.match(line)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(line));
        if (port === undefined) {
          port = ready(line);
          if (port !== undefined) resolve({ ...proc, port });
        }
      }
    });
    child.once("exit", (code) => {
      if (port === undefined) reject(new Error(`${what} exited (${code}) before listening: ${stderr.trim()}`));
    });
  });
}

const portOf = (url: unknown) => (typeof url === "string" ? Number(new URL(url).port) : undefined);

/** The real server, as operators run it: `bin/configserver serve`. */
export function startServer(repo: string, nodeFlags: string[] = [], root = ROOT, serveArgs: string[] = []): Promise<Proc> {
  const child = spawn(process.execPath, [...nodeFlags, "bin/configserver", "serve", "--repo", repo, "--port", "0", "--log-level", "info", ...serveArgs], {
    cwd: root, stdio: ["ignore", "pipe", "pipe"],
  });
  return track(child, (l) => (l.msg === "configserver listening" ? portOf(l.url) : undefined), "configserver");
}

/** Which baseline: koa + protobufjs (bench/baseline.ts) or bare node:http + protobufjs (bench/bareBaseline.ts). */
export type BaselineKind = "koa" | "bare";

/**
 * A baseline process answering `templates` (path → a response captured from the real server,
 * base64). `v1`: its /Agent/HeartBeat speaks protocol v1. `nodeFlags` e.g. --cpu-prof.
 */
export function startBaseline(templates: Record<string, string>, v1 = false, kind: BaselineKind = "koa", nodeFlags: string[] = []): Promise<Proc> {
  const script = kind === "bare" ? "bench/bareBaseline.ts" : "bench/baseline.ts";
  // In a file: the templates of 100 configs are larger than one argument may be.
  const dir = mkdtempSync(join(tmpdir(), "cs-baseline-"));
  writeFileSync(join(dir, "argument.json"), JSON.stringify({ templates, v1 }));
  const child = spawn(process.execPath, [...nodeFlags, "--import", "tsx", script, `@${join(dir, "argument.json")}`], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  child.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return track(child, (l) => portOf(l.url), `${kind} baseline`);
}

/** The bare node:http + protobufjs baseline (bench/bareBaseline.ts); see startBaseline. */
export const startBareBaseline = (templates: Record<string, string>, v1 = false, nodeFlags: string[] = []): Promise<Proc> => startBaseline(templates, v1, "bare", nodeFlags);

/** Runs the load generator in its own process and returns what it measured. */
export function load(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/loadgen.ts", JSON.stringify(spec)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`load generator failed (${code}): ${err.trim()}`));
      // A failure becomes a rejection, so the scenarios' `finally` still stops the servers.
      try {
        resolve(JSON.parse(out.trim().split("\n").pop() ?? "") as LoadResult);
      } catch {
        reject(new Error(`load generator printed no result: ${err.trim() || "(no output)"}`));
      }
    });
  });
}

/** Resident set size of a process, bytes. */
export function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });

/** One request over a keep-alive connection (node:http: fetch refuses GET bodies). */
export function request(port: number, method: string, path: string, body: Uint8Array): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, agent: keepAlive, headers: { "content-type": "application/x-protobuf", "content-length": body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The server's V8 heap in use, as its own /metrics reports it. */
export async function heapUsed(port: number): Promise<number> {
  const r = await request(port, "GET", "/metrics", new Uint8Array());
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(r.body.toString())?.[1] ?? Number.NaN);
}

/** Waits until two readings a second apart agree within 1 MB (the collector has caught up). */
export async function settled(pid: number): Promise<number> {
  let last = rss(pid);
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = rss(pid);
    if (Math.abs(now - last) < 1048576) return now;
    last = now;
  }
  return last;
}
