import { planRollback } from "../domain/rollback.ts";
import { contentChecker } from "../store/contentCheck.ts";
import { readConfigVersion } from "../store/configHistory.ts";
import { DEFAULTS } from "../settings/options.ts";
import { RepoStore } from "../store/repoStore.ts";
import { configuredAuthor } from "../store/repositoryRoot.ts";
import { findRepository, type RepositoryFlags } from "./findRepository.ts";

export interface RollbackOptions extends RepositoryFlags {
  readonly to: number;
  readonly server?: string;
  readonly token?: string;
}

/**
 * Without --server the repository is opened directly with RepoStore (the User API's writer) and
 * the rollback is committed locally; a running server picks the commit up like any other. Push
 * it yourself when the repository has a remote. With --server the running server does the write
 * (and its push), which is the safe choice while a server writes to the same repository.
 */
export async function rollbackLocally(name: string, o: RollbackOptions): Promise<string> {
  const root = await findRepository(o);
  const author = await configuredAuthor(root);
  const store = await RepoStore.open(root, { author: author ?? DEFAULTS.author, lockWaitMs: DEFAULTS.lockWaitMs, contentLimits: { maxConfigSize: DEFAULTS.maxConfigSize, secrets: DEFAULTS.secrets } });
  let target;
  let result;
  try {
    target = await readConfigVersion(store.git, name, o.to, store.state.commit || "HEAD");
    const { entry, spec } = target;
    result = await store.write((state) => planRollback(state, name, { version: o.to, commit: entry.commit, spec }, contentChecker(store.contentLimits)));
  } finally {
    // Saves the version index and removes the store's temporary folder.
    await store.close();
  }
  if (!result.commit) return `Config ${name} already equals version ${o.to}; nothing to commit.`;
  const now = result.state.configs.get(name)?.version;
  return `Rolled back config ${name} to version ${o.to} (commit ${target.entry.commit.slice(0, 12)}): new commit ${result.commit.slice(0, 12)}, version ${now}.`;
}

export async function rollbackOnServer(name: string, o: RollbackOptions & { server: string }): Promise<string> {
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
