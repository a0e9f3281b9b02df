/** Short forms people read; full values stay in titles. */
export const short = (commit: string | null | undefined) => (commit ? commit.slice(0, 10) : "—");

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  if (s < 0) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export const when = (iso: string | null | undefined) => (iso ? `${new Date(iso).toLocaleString()} (${ago(iso)})` : "—");

export interface RemoteWeb {
  /** The repository's web page. */
  readonly home: string;
  readonly commit: (sha: string) => string;
  /** Where to open a pull (merge) request. */
  readonly newChange: string;
}

const KNOWN: Readonly<Record<string, "github" | "gitlab" | "gitea">> = { "github.com": "github", "gitlab.com": "gitlab", "codeberg.org": "gitea", "gitea.com": "gitea" };

/**
 * Links into the remote's web pages, only for hosts whose URL scheme is known (GitHub, GitLab,
 * Gitea/Codeberg); anything else is shown as text. Only https links are ever made.
 */
export function remoteWeb(url: string | undefined, branch = "main"): RemoteWeb | undefined {
  if (!url) return undefined;
  const m = /^(?:https:\/\/(?:[^@/]+@)?([^/:]+)\/|ssh:\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/|[^@/]+@([^:/]+):)([A-Za-z0-9_.\/-]+?)(?:\.git)?\/?$/.exec(url);
  if (!m) return undefined;
  const host = (m[1] ?? m[2] ?? m[3] ?? "").toLowerCase();
  const path = m[4] ?? "";
  const kind = KNOWN[host];
  if (!kind || path.includes("..") || !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/.test(path)) return undefined;
  const home = `https://${host}/${path}`;
  const b = encodeURIComponent(branch);
  return {
    home,
    commit: (sha) => `${home}/${kind === "gitlab" ? "-/commit" : "commit"}/${encodeURIComponent(sha)}`,
    newChange: kind === "github" ? `${home}/compare/${b}` : kind === "gitlab" ? `${home}/-/merge_requests/new` : `${home}/compare/${b}...${b}`,
  };
}
