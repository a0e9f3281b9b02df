import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { parse } from "yaml";
import { PINNED_PACKAGE } from "../src/commands/initRepository.ts";
import { git, tempDir } from "./helpers/git.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const template = join(root, "config-repo-template");
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;

interface Step {
  readonly name?: string;
  readonly run?: string;
}

const githubSteps = () => (parse(readFileSync(join(template, ".github/workflows/validate.yml"), "utf8")) as { jobs: { validate: { steps: Step[] } } }).jobs.validate.steps;
const githubStep = (name: string) => {
  const step = githubSteps().find((s) => s.name === name);
  if (!step?.run) throw new Error(`validate.yml has no step "${name}" with a run script`);
  return step.run;
};
const gitlab = () => parse(readFileSync(join(template, ".gitlab-ci.yml"), "utf8")) as { default: { before_script: string[] }; validate: { script: string[] } };

/**
 * A machine with Node, git and npm's download cache, but no clone and nothing from this
 * checkout: no node_modules/.bin on the PATH, no npm or CONFIGSERVER_ variables, its own npx
 * install folder. The download cache is shared (read-mostly, safe for concurrent use) so
 * the dependencies come from the registry only when they are not cached.
 */
function cleanMachine(dir: string): Record<string, string> {
  const cache = join(dir, "npm-cache");
  mkdirSync(cache, { recursive: true });
  const shared = join(process.env.npm_config_cache ?? join(homedir(), ".npm"), "_cacache");
  if (existsSync(shared)) symlinkSync(shared, join(cache, "_cacache"));
  const path = (process.env.PATH ?? "").split(delimiter).filter((p) => p && !p.includes("node_modules"));
  return {
    PATH: [dirname(process.execPath), ...path].join(delimiter),
    HOME: process.env.HOME ?? homedir(),
    npm_config_cache: cache,
    npm_config_prefer_offline: "true",
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
  };
}

/** Runs a workflow's shell script as the CI runner would (bash), in `cwd`. */
function runStep(script: string, cwd: string, env: Record<string, string>) {
  const r = spawnSync("bash", ["-e", "-c", script], { cwd, env, encoding: "utf8", timeout: 150_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `npm pack` in a copy of this checkout (tracked and new files, as a clone has them), with its `prepare` build. */
function packClone(dir: string): string {
  const clone = join(dir, "clone");
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const f of files) if (existsSync(join(root, f))) cpSync(join(root, f), join(clone, f));
  // The clone's `npm ci`, without downloading it again.
  symlinkSync(join(root, "node_modules"), join(clone, "node_modules"));
  const out = join(dir, "out");
  mkdirSync(out);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CONFIGSERVER_") && !k.startsWith("npm_")));
  execFileSync("npm", ["pack", "--pack-destination", out], { cwd: clone, env, stdio: ["ignore", "pipe", "pipe"] });
  const tarballs = readdirSync(out);
  if (tarballs.length !== 1) throw new Error(`npm pack made ${tarballs.join(", ") || "nothing"}`);
  return join(out, tarballs[0] as string);
}

test("npm pack in a clone gives a tarball whose CLI runs the template's CI validate step in an empty folder", async (t) => {
  t.timeout(240_000);
  const dir = tempDir("cs-pack-");
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tarball = packClone(dir);
  t.regex(tarball, new RegExp(`configserver-${version.replace(/\./g, "\\.")}\\.tgz$`));

  // Compiled JavaScript and the generated protobuf code are in it; the TypeScript sources, tests and tsx are not.
  const listing = execFileSync("tar", ["tzf", tarball], { encoding: "utf8" }).split("\n");
  for (const f of ["package/bin/configserver", "package/dist/cli.js", "package/dist/gen/proto.js", "package/proto/agent.proto", "package/config-repo-template/.github/workflows/validate.yml"]) t.true(listing.includes(f), f);
  t.false(listing.some((f) => f.startsWith("package/src/") || f.startsWith("package/test/") || f.endsWith(".ts")), "no TypeScript in the package");
  const packed = JSON.parse(execFileSync("tar", ["xzOf", tarball, "package/package.json"], { encoding: "utf8" })) as { dependencies: Record<string, string> };
  t.false("tsx" in packed.dependencies || "esbuild" in packed.dependencies || "typescript" in packed.dependencies);

  // The CI checkout: a copy of the template, as a git repository, in a folder with nothing else around.
  const checkout = join(dir, "ci", "checkout");
  cpSync(template, checkout, { recursive: true });
  git(checkout, "init", "-q", "--initial-branch=main");
  git(checkout, "add", "-A");
  git(checkout, "commit", "-q", "-m", "from the template");
  const env = { ...cleanMachine(join(dir, "ci")), CONFIGSERVER_PACKAGE: tarball };

  const pinned = runStep(githubStep("Check that the configserver CLI is pinned"), checkout, env);
  t.is(pinned.code, 0, pinned.stdout + pinned.stderr);

  const validate = githubStep("Validate configs and agent groups");
  t.regex(validate, /--format github/);
  const ok = runStep(validate, checkout, env);
  t.is(ok.code, 0, ok.stdout + ok.stderr);
  t.regex(ok.stdout, /^ok: 3 config\(s\), 1 instance config\(s\), 3 agent group\(s\)$/m);

  // A broken config fails the step with an annotation on its file and line.
  writeFileSync(join(checkout, "configs", "java-app.yaml"), "config_name: java-app\ncontent: [unclosed\n");
  const bad = runStep(validate, checkout, env);
  t.is(bad.code, 1, bad.stdout + bad.stderr);
  t.regex(bad.stdout, /^::error file=configs\/java-app\.yaml,line=\d+,col=\d+,title=configserver validate::/m);

  // GitLab's job runs the same package from its script.
  git(checkout, "checkout", "-q", "--", ".");
  for (const line of [...gitlab().default.before_script, ...gitlab().validate.script]) {
    const r = runStep(line, checkout, env);
    t.is(r.code, 0, `${line}\n${r.stdout}${r.stderr}`);
  }

  const v = runStep(`npx --yes --package "$CONFIGSERVER_PACKAGE" configserver --version`, checkout, env);
  t.is(v.stdout.trim(), version, v.stderr);
  // What npx installed is the runtime dependencies only.
  const installed = execFileSync("find", [join(dir, "ci", "npm-cache", "_npx"), "-maxdepth", "3", "-name", "node_modules", "-type", "d"], { encoding: "utf8" }).split("\n").filter(Boolean);
  t.true(installed.length > 0);
  for (const nm of installed) for (const dev of ["tsx", "esbuild", "typescript", "ava"]) t.false(existsSync(join(nm, dev)), `${dev} installed by npx`);
});

test("the template's CI refuses a CONFIGSERVER_PACKAGE that is unset, a bare registry name or an unpinned git URL", (t) => {
  const dir = tempDir("cs-pin-");
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const check = githubStep("Check that the configserver CLI is pinned");
  const gitlabCheck = gitlab().default.before_script.join("\n");
  const env = (spec: string) => ({ PATH: process.env.PATH ?? "", CONFIGSERVER_PACKAGE: spec });
  const refused = ["", "configserver", "configserver@0.1.0", "@someone/configserver", "git+https://example.com/x/configserver.git", "git+https://example.com/x/configserver.git#main", "http://example.com/configserver-0.1.0.tgz"];
  const accepted = ["https://example.com/x/configserver/releases/download/v0.1.0/configserver-0.1.0.tgz", `git+https://example.com/x/configserver.git#${"a".repeat(40)}`, "/opt/configserver-0.1.0.tgz"];
  for (const spec of refused) {
    const gh = runStep(check, dir, env(spec));
    t.is(gh.code, 1, spec);
    t.regex(gh.stdout, /::error file=\.github\/workflows\/validate\.yml::CONFIGSERVER_PACKAGE is .*release tarball URL/, spec);
    t.is(runStep(gitlabCheck, dir, env(spec)).code, 1, spec);
    t.false(PINNED_PACKAGE.test(spec), `init --package takes the same rule: ${spec}`);
  }
  for (const spec of accepted) {
    t.is(runStep(check, dir, env(spec)).code, 0, spec);
    t.is(runStep(gitlabCheck, dir, env(spec)).code, 0, spec);
    t.true(PINNED_PACKAGE.test(spec), `init --package takes the same rule: ${spec}`);
  }
});
