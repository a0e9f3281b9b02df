/**
 * A message for a client with the repository's absolute location taken out: paths inside it
 * become relative to it (`/srv/…/repo/.git/index.lock` → `.git/index.lock`). Where the server
 * keeps its data is the operator's business; the log keeps the full text.
 */
export function withoutRepositoryPaths(text: string, workTree: string, gitDir: string): string {
  const pairs: [string, string][] = [
    [gitDir, ".git"],
    [workTree, "."],
  ];
  let out = text;
  // The longer first: the git folder usually sits inside the working tree.
  for (const [abs, rel] of pairs.sort((a, b) => b[0].length - a[0].length)) {
    const root = abs.replace(/\/+$/, "");
    if (root === "") continue;
    out = out.split(`${root}/`).join(rel === "." ? "" : `${rel}/`).split(root).join(rel);
  }
  return out;
}
