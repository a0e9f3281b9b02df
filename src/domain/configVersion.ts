// A config's (or instance config's) version as the history tells it: what the HTTP API, the
// `history` command and the console show. Plain data, read from git by src/store/configHistory.ts.

/** One commit on HEAD's first-parent chain that changed a config's file. */
export interface ConfigVersion {
  /** The commit's first-parent depth (root = 1): what agents were served as config_version. */
  readonly version: number;
  readonly commit: string;
  /** "deleted" entries are not versions one can serve or roll back to; they explain gaps. */
  readonly action: "created" | "modified" | "deleted";
  readonly author: string;
  readonly authorEmail: string;
  /** Author date, ISO 8601 with the author's offset. */
  readonly date: string;
  /** The commit message's subject line. */
  readonly message: string;
  /** The commit's first-parent depth: the version, unless the commit keeps an earlier one (`keeps`). */
  readonly depth: number;
  /** A rollback that put back the content of the commit named here: its version stays that commit's. */
  readonly keeps?: string;
  /** Whether this is the version the server serves (agents hold it); set by readers that know. */
  readonly served?: boolean;
  /** Why this commit is not served: HEAD's validation problems at it (it never reached agents). */
  readonly refused?: readonly string[];
}

/** A version as every JSON answer spells it (camelCase; the subject is `commitMessage`). */
export interface ConfigVersionJson extends Omit<ConfigVersion, "message" | "depth"> {
  readonly commitMessage: string;
}

/** The JSON shape of a version for the HTTP API and `history --format json`. */
export function configVersionJson(v: ConfigVersion): ConfigVersionJson {
  return {
    version: v.version, commit: v.commit, action: v.action, author: v.author, authorEmail: v.authorEmail, date: v.date, commitMessage: v.message,
    ...(v.keeps ? { keeps: v.keeps } : {}), ...(v.served ? { served: true } : {}), ...(v.refused ? { refused: v.refused } : {}),
  };
}
