import { parseCommitMessage, parseIdentity } from "../domain/identity.ts";
import { DEFAULTS } from "../settings/options.ts";
import { RepoStore, type WriteOptions } from "../store/repoStore.ts";
import { configuredAuthor } from "../store/repositoryRoot.ts";
import { rollbackConfig } from "../store/rollbackWrite.ts";
import { CliError } from "./cliError.ts";
import { findRepository, type RepositoryFlags } from "./findRepository.ts";

export interface RollbackOptions extends RepositoryFlags {
  readonly to: number;
  readonly server?: string;
  readonly token?: string;
  /** "Name <email>": the commit's author. */
  readonly author?: string;
  /** The commit's subject line. */
  readonly message?: string;
}

/** --author and --message checked as the User API checks its headers, before anything is read. */
function who(o: RollbackOptions): WriteOptions {
  const out: { author?: WriteOptions["author"]; message?: string } = {};
  if (o.author !== undefined) {
    const author = parseIdentity(o.author);
    if ("problem" in author) throw new CliError(`--author ${JSON.stringify(o.author)} is refused: ${author.problem} (write it as "Name <email>")`);
    out.author = author;
  }
  if (o.message !== undefined) {
    const message = parseCommitMessage(o.message);
    if (typeof message !== "string") throw new CliError(`--message is refused: ${message.problem}`);
    out.message = message;
  }
  return out;
}

/**
 * Without --server the repository is opened directly with RepoStore (the User API's writer) and
 * the rollback is committed locally; a running server picks the commit up like any other. Push
 * it yourself when the repository has a remote. With --server the running server does the write
 * (and its push), which is the safe choice while a server writes to the same repository. Both
 * work while HEAD fails validation: that is how a broken commit is repaired.
 */
export async function rollbackLocally(name: string, o: RollbackOptions): Promise<string> {
  const options = who(o);
  const root = await findRepository(o);
  const author = await configuredAuthor(root);
  const store = await RepoStore.open(root, { author: author ?? DEFAULTS.author, lockWaitMs: DEFAULTS.lockWaitMs, maxFileSize: DEFAULTS.maxFileSize, contentLimits: { maxConfigSize: DEFAULTS.maxConfigSize, secrets: DEFAULTS.secrets } });
  let outcome;
  try {
    outcome = await rollbackConfig(store, name, o.to, options);
  } finally {
    // Saves the version index and removes the store's temporary folder.
    await store.close();
  }
  const { target, result, summary } = outcome;
  if (!result.commit) return `${summary}.`;
  const now = result.refused ? "" : `, version ${result.state.configs.get(name)?.version}`;
  return `${summary} (commit ${target.entry.commit.slice(0, 12)}): new commit ${result.commit.slice(0, 12)}${now}.`;
}

/** Header values go as UTF-8 bytes; the server reads them so ("José" stays "José"). */
const header = (value: string) => Buffer.from(value, "utf8").toString("latin1");

export async function rollbackOnServer(name: string, o: RollbackOptions & { server: string }): Promise<string> {
  const options = who(o);
  const url = `${o.server.replace(/\/+$/, "")}/api/v1/configs/${encodeURIComponent(name)}/rollback`;
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
      ...(options.author ? { "x-configserver-author": header(o.author as string) } : {}),
      ...(options.message !== undefined ? { "x-configserver-message": header(options.message) } : {}),
    },
    body: JSON.stringify({ version: o.to }),
  });
  const body = (await res.json().catch(() => ({}))) as { message?: string; commit?: string | null; version?: number | null; stillRefused?: unknown };
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${body.message ?? "no message"}`);
  if (!body.commit) return `${body.message}.`;
  return body.stillRefused ? `${body.message}: new commit ${body.commit.slice(0, 12)}.` : `${body.message}: new commit ${body.commit.slice(0, 12)}, version ${body.version}.`;
}
