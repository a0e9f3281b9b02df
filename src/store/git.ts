import { execFile, spawn } from "node:child_process";
import { readLooseObject } from "./git/looseObjects.ts";
import { readIfExists } from "./readIfExists.ts";
import { redactSecrets } from "./redact.ts";
import { DEFAULT_MAX_FILE_SIZE } from "./stateTree.ts";
import { join } from "node:path";

const NETWORK_TIMEOUT_MS = 120_000;
const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
// A server has no terminal: a remote asking for credentials must fail, not wait for a prompt.
const GIT_ENV = { ...process.env, GIT_TERMINAL_PROMPT: "0" };
/**
 * Given to every git command the server runs: the repository's own hooks and fsmonitor stay off.
 * A hooks path may point into the working tree (`.githooks/`), whose content anyone who can push
 * controls; the server must never run code that came with a commit. (The git CLI writer then
 * sees no hooks either, so a commit's text is exactly what the request said.)
 */
export const SAFE_GIT_CONFIG: readonly string[] = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"];

/**
 * The git commands the store needs, run in one repository. Plumbing output formats are chosen
 * to be parsed exactly (NUL separators), never porcelain meant for people.
 */
export class Git {
  /**
   * The largest state file read from this repository (--max-file-size; set by the store): readers
   * of arbitrary commits (history, rollback) ask a blob's size before reading it.
   */
  maxBlobBytes = DEFAULT_MAX_FILE_SIZE;

  constructor(readonly dir: string) {}

  /**
   * Runs a git command and rejects on a non-zero exit. (simple-git was tried first: its raw()
   * resolves when a command fails without stderr, e.g. `merge-base --is-ancestor`, which made a
   * rewritten remote look like a fast-forward; exit codes matter here, so git is run directly.)
   * `env` adds variables (GIT_INDEX_FILE for a temporary index).
   */
  raw(args: string[], options: { timeoutMs?: number; env?: Readonly<Record<string, string>> } = {}): Promise<string> {
    const env = options.env ? { ...GIT_ENV, ...options.env } : GIT_ENV;
    return new Promise((resolve, reject) => {
      execFile("git", [...SAFE_GIT_CONFIG, ...args], { cwd: this.dir, maxBuffer: 1 << 30, encoding: "utf8", timeout: options.timeoutMs ?? 0, env }, (err, stdout, stderr) => {
        // git repeats a remote's URL, credentials included, in its errors: they never leave here.
        if (err) reject(new Error(redactSecrets(`git ${args.filter((a, i) => a !== "-c" && args[i - 1] !== "-c")[0]} failed: ${(stderr.trim() + " " + stdout.trim()).trim() || err.message}`)));
        else resolve(stdout);
      });
    });
  }

  /** Whether a git command exits 0 (for questions such as `merge-base --is-ancestor`). */
  test(args: string[]): Promise<boolean> {
    return this.raw(args).then(
      () => true,
      () => false,
    );
  }

  /** Network operations (clone, fetch, push): bounded, so a hung remote cannot stall the writer. */
  network(args: string[]): Promise<string> {
    return this.raw(args, { timeoutMs: NETWORK_TIMEOUT_MS });
  }

  /** HEAD's commit hash, or undefined for a repository with no commits yet. */
  async head(): Promise<string | undefined> {
    try {
      return (await this.raw(["rev-parse", "--verify", "-q", "HEAD^{commit}"])).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * HEAD's commit read from the ref files, without a process: it is asked before and after every
   * write and on every watcher event. Anything the files do not answer (an unborn branch, a
   * symbolic ref, a ref store other than files such as reftable) is asked of git.
   */
  async headFast(): Promise<string | undefined> {
    const head = readIfExists(join(this.dir, ".git", "HEAD"))?.toString("utf8").trim();
    if (head === undefined) return this.head();
    if (OBJECT_ID.test(head)) return head;
    if (!head.startsWith("ref: ")) return this.head();
    const tip = this.refTip(head.slice(5));
    return tip !== undefined && OBJECT_ID.test(tip) ? tip : this.head();
  }

  /** A ref's commit: from the ref files when they answer, else from git; undefined when it does not exist. */
  async resolveRef(ref: string): Promise<string | undefined> {
    const tip = this.refTip(ref);
    if (tip !== undefined && OBJECT_ID.test(tip)) return tip;
    const out = await this.raw(["rev-parse", "--verify", "-q", `${ref}^{commit}`]).catch(() => "");
    return out.trim() || undefined;
  }

  /**
   * A ref's value read from its loose file, else from packed-refs, without a process; undefined
   * when it exists in neither (an unborn branch). Read synchronously: these files are tiny.
   */
  refTip(ref: string): string | undefined {
    const gitDir = join(this.dir, ".git");
    const loose = readIfExists(join(gitDir, ref))?.toString("utf8").trim();
    if (loose !== undefined) return loose;
    const packed = readIfExists(join(gitDir, "packed-refs"))?.toString("utf8") ?? "";
    const line = packed.split("\n").find((l) => l.endsWith(` ${ref}`));
    return line?.slice(0, line.indexOf(" "));
  }

  /** Contents of many objects (`<rev>:<path>` or blob hashes) with one process; missing ones are undefined. */
  async catFileBatch(specs: readonly string[]): Promise<(Buffer | undefined)[]> {
    return (await this.readObjects(specs)).map((o) => o?.body);
  }

  /** Blob contents by id: loose ones read in-process, the rest with one `git cat-file`. */
  async readBlobs(ids: readonly string[]): Promise<(Buffer | undefined)[]> {
    const gitDir = join(this.dir, ".git");
    const found = ids.map((id) => readLooseObject(gitDir, id, "blob"));
    const missing = ids.filter((_, i) => found[i] === undefined);
    if (missing.length === 0) return found;
    const packed = await this.catFileBatch(missing);
    let k = 0;
    return found.map((b) => b ?? packed[k++]);
  }

  /** Like catFileBatch, with each object's id and type. */
  readObjects(specs: readonly string[]): Promise<(GitObject | undefined)[]> {
    if (specs.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const child = spawn("git", [...SAFE_GIT_CONFIG, "cat-file", "--batch"], { cwd: this.dir, stdio: ["pipe", "pipe", "pipe"] });
      const chunks: Buffer[] = [];
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => chunks.push(c));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("error", reject);
      child.on("close", (code) => {
        if (code !== 0) return reject(new Error(redactSecrets(`git cat-file --batch exited ${code}: ${stderr.trim()}`)));
        try {
          resolve(parseBatch(Buffer.concat(chunks), specs.length));
        } catch (e) {
          reject(e);
        }
      });
      child.stdin.end(specs.join("\n") + "\n");
    });
  }
}

export interface GitObject {
  readonly id: string;
  readonly type: string;
  readonly body: Buffer;
}

function parseBatch(out: Buffer, count: number): (GitObject | undefined)[] {
  const result: (GitObject | undefined)[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const nl = out.indexOf(10, at);
    if (nl < 0) throw new Error("truncated git cat-file output");
    const header = out.subarray(at, nl).toString();
    at = nl + 1;
    if (header.endsWith(" missing") || header.endsWith(" ambiguous")) {
      result.push(undefined);
      continue;
    }
    const [id = "", type = "", size = ""] = header.split(" ");
    result.push({ id, type, body: out.subarray(at, at + Number(size)) });
    at += Number(size) + 1;
  }
  return result;
}
