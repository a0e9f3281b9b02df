// The simulated fleet and the repositories it is served from. Everything is deterministic, so the
// load generator, the baseline and the orchestrator agree without exchanging data.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";

export const ENVS = ["prod", "staging", "dev"] as const;
export const REGIONS = 10;
export const APPS = 100;

/** Three tags per agent; 300 distinct tag sets in the whole fleet. */
export function agentTags(i: number): Record<string, string> {
  return { env: ENVS[i % ENVS.length] as string, region: `region-${i % REGIONS}`, app: `app-${i % APPS}` };
}

export const agentId = (i: number) => `agent-${String(i).padStart(6, "0")}`;
export const configName = (i: number) => `cfg-${String(i).padStart(4, "0")}`;

/** Number of configs every agent of the fleet gets (the "10 configs applied" of the scenarios). */
// BENCH_APPLIED=100: the growth runs of BENCHMARKS.md ("100 configs per agent").
export const APPLIED = Number(process.env.BENCH_APPLIED ?? 10);

export interface RepoShape {
  /** Configs in the repository (≥ APPLIED); the first APPLIED are applied to the fleet's groups. */
  readonly configs: number;
  /** Commits: the first adds everything, each further one rewrites one config. */
  readonly commits: number;
  /** Bytes of pipeline text per config (approximate). */
  readonly contentBytes?: number;
}

/** An iLogtail pipeline of about `bytes` bytes; `rev` makes each revision differ. */
export function configContent(i: number, rev: number, bytes = 600): string {
  const head = [
    "enable: true",
    "inputs:",
    "  - Type: input_file",
    "    FilePaths:",
    `      - /var/log/app-${i}/*.log`,
    "processors:",
    "  - Type: processor_parse_regex_native",
    "    SourceKey: content",
    `    Regex: '(\\S+) (\\S+) \\[(\\S+)\\] "(\\w+) ([^"]*)" (\\d+)'`,
    "    Keys: [ip, user, time, method, url, status]",
    "flushers:",
    "  - Type: flusher_sls",
    `    Logstore: app-${i}`,
    `    # revision ${rev}`,
  ].join("\n");
  let text = head + "\n";
  let k = 0;
  while (text.length < bytes) text += `    # padding line ${k++} keeps the pipeline at a realistic size\n`;
  return text;
}

export function configYaml(i: number, rev: number, bytes?: number): string {
  const body = configContent(i, rev, bytes).replace(/^/gm, "  ").replace(/\s+$/, "");
  return `config_name: ${configName(i)}\nagent_type: ilogtail\ndescription: bench config ${i}\ncontent: |\n${body}\n`;
}

interface Group {
  name: string;
  tag: [string, string];
  configs: string[];
}

/** 3 env groups apply configs 0-5, 10 region groups apply 6-9: every agent gets exactly APPLIED configs from 2 matching groups. */
export function fleetGroups(): Group[] {
  const base = Array.from({ length: APPLIED }, (_, i) => configName(i));
  const groups: Group[] = [];
  for (const env of ENVS) groups.push({ name: `env-${env}`, tag: ["env", env], configs: base.slice(0, 6) });
  for (let r = 0; r < REGIONS; r++) groups.push({ name: `region-${r}`, tag: ["region", `region-${r}`], configs: base.slice(6) });
  return groups;
}

export function groupYaml(g: Group): string {
  return `group_name: ${g.name}\ndescription: bench group\ntags:\n  - name: ${g.tag[0]}\n    value: ${g.tag[1]}\nconfigs:\n${g.configs.map((c) => `  - ${c}\n`).join("")}`;
}

/** Builds a repository with `git fast-import` (seconds for 10,000 commits) and checks out main. */
export function buildRepo(dir: string, shape: RepoShape): void {
  mkdirSync(dir, { recursive: true });
  git(dir, ["init", "-q", "--initial-branch=main"]);
  const parts: Buffer[] = [];
  const data = (s: string) => {
    const b = Buffer.from(s);
    parts.push(Buffer.from(`data ${b.length}\n`), b, Buffer.from("\n"));
  };
  let time = 1_700_000_000;
  const commit = (message: string, files: [string, string][]) => {
    parts.push(Buffer.from(`commit refs/heads/main\ncommitter Bench <bench@localhost> ${time++} +0000\n`));
    data(message);
    for (const [path, text] of files) {
      parts.push(Buffer.from(`M 100644 inline ${path}\n`));
      data(text);
    }
  };
  const first: [string, string][] = [];
  for (let i = 0; i < shape.configs; i++) first.push([`configs/${configName(i)}.yaml`, configYaml(i, 0, shape.contentBytes)]);
  for (const g of fleetGroups()) first.push([`agent_groups/${g.name}.yaml`, groupYaml(g)]);
  commit("initial state", first);
  for (let c = 1; c < shape.commits; c++) {
    const i = c % shape.configs;
    commit(`update ${configName(i)}`, [[`configs/${configName(i)}.yaml`, configYaml(i, c, shape.contentBytes)]]);
  }
  // glibc's heap trimming makes fast-import call brk() ~5 times per commit, and brk is slow on
  // this VM (~150 µs): 10,000 commits took 46 s. A large top pad makes it 0.5 s per 3,000 commits.
  const env = { ...process.env, MALLOC_TOP_PAD_: String(256 << 20), MALLOC_TRIM_THRESHOLD_: String(256 << 20) };
  const r = spawnSync("git", ["fast-import", "--quiet"], { cwd: dir, input: Buffer.concat(parts), maxBuffer: 1 << 30, env });
  if (r.status !== 0) throw new Error(`git fast-import failed: ${r.stderr.toString()}`);
  git(dir, ["reset", "-q", "--hard", "main"]);
}

export const personEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Bench Person",
  GIT_AUTHOR_EMAIL: "person@localhost",
  GIT_COMMITTER_NAME: "Bench Person",
  GIT_COMMITTER_EMAIL: "person@localhost",
  GIT_CONFIG_NOSYSTEM: "1",
};

export function git(dir: string, args: string[]): string {
  return execFileSync("git", args, { cwd: dir, env: personEnv, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 30 });
}
