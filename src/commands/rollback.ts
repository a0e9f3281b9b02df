import { InvalidArgumentError, type Command } from "commander";
import { planRollback } from "../domain/rollback.ts";
import { readConfigVersion } from "../store/configHistory.ts";
import { RepoStore } from "../store/repoStore.ts";
import { configuredAuthor, repositoryRoot } from "../store/repositoryRoot.ts";

function version(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer (a version from `configserver history`)");
  return n;
}

interface RollbackOptions {
  readonly to: number;
  readonly repo: string;
  readonly server?: string;
  readonly token?: string;
}

/**
 * Without --server the repository is opened directly with RepoStore (the User API's writer) and
 * the rollback is committed locally; a running server picks the commit up like any other. Push
 * it yourself when the repository has a remote. With --server the running server does the write
 * (and its push), which is the safe choice while a server writes to the same repository.
 */
async function rollbackLocally(name: string, o: RollbackOptions): Promise<string> {
  const root = await repositoryRoot(o.repo);
  const author = await configuredAuthor(root);
  const store = await RepoStore.open(root, author ? { author } : {});
  const target = await readConfigVersion(store.git, name, o.to, store.state.commit || "HEAD");
  const result = await store.write((state) => planRollback(state, name, { version: o.to, commit: target.entry.commit, spec: target.spec }));
  if (!result.commit) return `Config ${name} already equals version ${o.to}; nothing to commit.`;
  const now = result.state.configs.get(name)?.version;
  return `Rolled back config ${name} to version ${o.to} (commit ${target.entry.commit.slice(0, 12)}): new commit ${result.commit.slice(0, 12)}, version ${now}.`;
}

async function rollbackOnServer(name: string, o: RollbackOptions & { server: string }): Promise<string> {
  const url = `${o.server.replace(/\/+$/, "")}/api/v1/configs/${encodeURIComponent(name)}/rollback`;
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
    body: JSON.stringify({ version: o.to }),
  });
  const body = (await res.json().catch(() => ({}))) as { message?: string; commit?: string | null; version?: number | null };
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${body.message ?? "no message"}`);
  return body.commit ? `${body.message}: new commit ${body.commit.slice(0, 12)}, version ${body.version}.` : `${body.message}.`;
}

export function addRollbackCommand(program: Command): void {
  program
    .command("rollback")
    .description("restore a config as it was at an earlier version, as a new commit (agents get it as a new, larger version)")
    .argument("<name>", "config name")
    .requiredOption("--to <version>", "the version to restore (see `configserver history NAME`)", version)
    .option("--repo <dir>", "the config repository, written directly (no server needed); the commit is local: push it yourself", ".")
    .option("--server <url>", "ask a running server to do the rollback instead (it commits and pushes)")
    .option("--token <token>", "bearer token for --server's User API, when it requires one")
    .action(async (name: string, o: RollbackOptions) => {
      console.log(o.server ? await rollbackOnServer(name, { ...o, server: o.server }) : await rollbackLocally(name, o));
    });
}
