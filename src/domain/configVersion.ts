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
}

/** A version as every JSON answer spells it (camelCase; the subject is `commitMessage`). */
export interface ConfigVersionJson extends Omit<ConfigVersion, "message"> {
  readonly commitMessage: string;
}

/** The JSON shape of a version for the HTTP API and `history --format json`. */
export function configVersionJson(v: ConfigVersion): ConfigVersionJson {
  return { version: v.version, commit: v.commit, action: v.action, author: v.author, authorEmail: v.authorEmail, date: v.date, commitMessage: v.message };
}
