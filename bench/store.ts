// In-process timing of the git-backed store (src/store): cold open, reload after one external
// commit, and one User API write, each broken down into git commands and the JS in between.
// It measures the store as it is and changes nothing in it.
// Run: node --import tsx [--cpu-prof --cpu-prof-dir DIR] bench/store.ts '<{"repo": DIR, "reloads": N, "writes": N}>'
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { RepoState } from "../src/domain/repoState.ts";
import { planUpdateConfig } from "../src/domain/userOps.ts";
import { contentChecker } from "../src/store/contentCheck.ts";
import { readRepoContent } from "../src/store/repoContent.ts";
import { DEFAULTS } from "../src/settings/options.ts";
import { RepoStore } from "../src/store/repoStore.ts";
import { renderConfig } from "../src/store/yaml/renderFiles.ts";
import { configName, configYaml, git } from "./fleet.ts";

const checkContent = contentChecker({ maxConfigSize: DEFAULTS.maxConfigSize, secrets: DEFAULTS.secrets });

export interface Timed {
  totalMs: number;
  /** Wall time per git subcommand (summed when one runs several times). */
  gitMs: Record<string, number>;
}

export interface StoreResult {
  openMs: number;
  openGitMs: Record<string, number>;
  reloads: Timed[];
  /** Re-running the work of a reload in JS on the same texts: YAML parse + validation, and building the RepoState. */
  parseMs: number;
  stateMs: number;
  writes: Timed[];
  renderMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export async function storeBench(repo: string, reloads: number, writes: number): Promise<StoreResult> {
  let gitMs: Record<string, number> = {};
  const t0 = performance.now();
  // The Git wrapper is created inside open(): time its commands by patching the prototype.
  const { Git } = await import("../src/store/git.ts");
  const raw = Git.prototype.raw;
  const batch = Git.prototype.readObjects;
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const s = performance.now();
    try {
      return await f();
    } finally {
      gitMs[name] = (gitMs[name] ?? 0) + performance.now() - s;
    }
  };
  Git.prototype.raw = function (this: InstanceType<typeof Git>, args: string[], options?: Parameters<typeof raw>[1]) {
    const sub = args.find((a, i) => !a.startsWith("-") && args[i - 1] !== "-c") ?? "?";
    return timed(sub, () => raw.call(this, args, options));
  };
  Git.prototype.readObjects = function (this: InstanceType<typeof Git>, specs: readonly string[]) {
    return timed("cat-file --batch", () => batch.call(this, specs));
  };

  const store = await RepoStore.open(repo, { author: DEFAULTS.author, lockWaitMs: DEFAULTS.lockWaitMs, contentLimits: { maxConfigSize: DEFAULTS.maxConfigSize, secrets: DEFAULTS.secrets } });
  const openMs = performance.now() - t0;
  const openGitMs = gitMs;

  const result: StoreResult = { openMs, openGitMs, reloads: [], parseMs: 0, stateMs: 0, writes: [], renderMs: 0 };
  const target = (k: number) => (k * 7919) % store.state.configs.size;
  for (let k = 0; k < reloads; k++) {
    // Someone else's commit, as `git commit` in the working copy makes it.
    const i = target(k);
    writeFileSync(join(repo, "configs", `${configName(i)}.yaml`), configYaml(i, 1_000_000 + k));
    git(repo, ["commit", "-q", "-a", "-m", `reload ${k}`]);
    gitMs = {};
    const s = performance.now();
    await store.refresh();
    result.reloads.push({ totalMs: performance.now() - s, gitMs });
  }

  const texts = (store as unknown as { snapshot: { texts: ReadonlyMap<string, string> } }).snapshot.texts;
  const parses: number[] = [];
  const states: number[] = [];
  for (let k = 0; k < 5; k++) {
    let s = performance.now();
    const content = readRepoContent(texts, { maxConfigSize: DEFAULTS.maxConfigSize, secrets: DEFAULTS.secrets });
    parses.push(performance.now() - s);
    s = performance.now();
    const configs = content.configs.map((c) => ({ ...c, version: 1, commit: "x" }));
    new RepoState("x", 1, 0, configs, content.groups);
    states.push(performance.now() - s);
  }
  result.parseMs = median(parses);
  result.stateMs = median(states);

  for (let k = 0; k < writes; k++) {
    const name = configName(target(k + reloads));
    const old = store.state.configs.get(name);
    if (!old) throw new Error(`no config ${name}`);
    const spec = { name, agentType: old.agentType, description: old.description, content: `${old.content}# write ${k}\n` };
    gitMs = {};
    const s = performance.now();
    await store.write((st) => planUpdateConfig(st, spec, checkContent));
    result.writes.push({ totalMs: performance.now() - s, gitMs });
  }
  const renders: number[] = [];
  const any = store.state.sortedConfigs[0];
  if (any) {
    for (let k = 0; k < 20; k++) {
      const s = performance.now();
      renderConfig({ ...any, content: any.content + `# r${k}\n` }, texts.get(`configs/${any.name}.yaml`));
      renders.push(performance.now() - s);
    }
  }
  result.renderMs = median(renders);
  return result;
}

if (process.argv[1]?.endsWith("store.ts")) {
  const arg = JSON.parse(process.argv[2] ?? "{}") as { repo: string; reloads?: number; writes?: number };
  const r = await storeBench(arg.repo, arg.reloads ?? 10, arg.writes ?? 10);
  process.stdout.write(JSON.stringify(r) + "\n");
}
