import { spawn } from "node:child_process";
import { simpleGit, type SimpleGit } from "simple-git";

/** The identity User API commits are made with when the operator configures none. */
export const DEFAULT_AUTHOR = { name: "configserver", email: "configserver@localhost" };

/**
 * The git commands the store needs, run in one repository. Plumbing output formats are chosen
 * to be parsed exactly (NUL separators), never porcelain meant for people.
 */
export class Git {
  private readonly git: SimpleGit;

  constructor(readonly dir: string) {
    // Identity comes from -c so commits work on machines with no global git config.
    this.git = simpleGit({ baseDir: dir, maxConcurrentProcesses: 4, trimmed: false, timeout: { block: 60_000 } });
  }

  raw(args: string[]): Promise<string> {
    return this.git.raw(args);
  }

  /** HEAD's commit hash, or undefined for a repository with no commits yet. */
  async head(): Promise<string | undefined> {
    try {
      return (await this.git.raw(["rev-parse", "--verify", "-q", "HEAD^{commit}"])).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** Contents of many objects (`<rev>:<path>` or blob hashes) with one process; missing ones are undefined. */
  catFileBatch(specs: readonly string[]): Promise<(Buffer | undefined)[]> {
    if (specs.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const child = spawn("git", ["cat-file", "--batch"], { cwd: this.dir, stdio: ["pipe", "pipe", "pipe"] });
      const chunks: Buffer[] = [];
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => chunks.push(c));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("error", reject);
      child.on("close", (code) => {
        if (code !== 0) return reject(new Error(`git cat-file --batch exited ${code}: ${stderr.trim()}`));
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

function parseBatch(out: Buffer, count: number): (Buffer | undefined)[] {
  const result: (Buffer | undefined)[] = [];
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
    const size = Number(header.slice(header.lastIndexOf(" ") + 1));
    result.push(out.subarray(at, at + size));
    at += size + 1;
  }
  return result;
}
