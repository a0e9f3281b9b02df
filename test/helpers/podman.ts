import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { tempDir } from "./git.ts";

/**
 * podman as CI runs it here: rootful, with runc (crun cannot drive this machine's hybrid
 * cgroups), cgroupfs, events in a file (no systemd), and open-file/process limits below the
 * machine's hard limits (podman's defaults exceed them and `run` fails).
 */
function containersConf(): string {
  const file = join(tempDir("cs-podman-"), "containers.conf");
  writeFileSync(file, [
    "[containers]",
    'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
    "[engine]",
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    "",
  ].join("\n"));
  return file;
}

export const podmanEnv: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: containersConf() };

export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (never throws for its exit status: the caller checks `code`). */
export async function run(command: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<Ran> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, [...args], { cwd: options.cwd, env: podmanEnv, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 10 * 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? err.message };
  }
}

/** Like run, but a non-zero exit is an error naming the command and the end of its output. */
export async function mustRun(command: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<Ran> {
  const r = await run(command, args, options);
  if (r.code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${r.code}:\n${(r.stdout + r.stderr).slice(-4000)}`);
  return r;
}

export const podman = (...args: string[]) => run("podman", args);
export const mustPodman = (...args: string[]) => mustRun("podman", args);

const SUITE = "trixie";
const MIRROR = "http://deb.debian.org/debian";
/** Debian packages of the two base images (what the official Node images would give the Containerfile). */
const PACKAGES = {
  // The runtime: Node.js and what the Containerfile would otherwise apt-get (git, ssh, tini).
  runtime: ["nodejs", "git", "openssh-client", "ca-certificates", "tini"],
  // The build stages: Node.js with npm.
  build: ["nodejs", "npm", "ca-certificates"],
} as const;
const DPKG_EXCLUDES = ["/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*"];

/**
 * A base image made from Debian's packages with mmdebstrap (no container registry is reachable
 * here), imported into podman's store under a name that hashes what it is made of, so later runs
 * (and CI, on the same machine) find it there and skip the ~30 s of mmdebstrap.
 */
export async function debianBase(kind: keyof typeof PACKAGES): Promise<{ name: string; made: boolean }> {
  const recipe = JSON.stringify({ SUITE, MIRROR, packages: PACKAGES[kind], DPKG_EXCLUDES });
  const name = `localhost/configserver-test-base-${kind}:${createHash("sha256").update(recipe).digest("hex").slice(0, 12)}`;
  if ((await podman("image", "exists", name)).code === 0) return { name, made: false };
  const dir = tempDir("cs-base-");
  try {
    const tar = join(dir, "rootfs.tar");
    await mustRun("mmdebstrap", ["--variant=minbase", `--include=${PACKAGES[kind].join(",")}`, ...DPKG_EXCLUDES.map((p) => `--dpkgopt=path-exclude=${p}`), SUITE, tar, MIRROR]);
    await mustPodman("import", "-q", tar, name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { name, made: true };
}
