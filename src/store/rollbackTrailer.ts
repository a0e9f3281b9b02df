/**
 * The commit trailer that says a commit is a rollback (docs/rollouts.md "Going back is never
 * staged"): `Rollback: configs/NAME.yaml` (or `instance_configs/NAME.yaml`), one per file. The
 * server's rollback (API, CLI, console) writes it; a person may write it in a pull request's
 * commit too. A rollout never stages the change it names: the content reaches every agent at once.
 * Only the first word of a value is read (the server adds `to version N` for people).
 */
export const ROLLBACK_TRAILER = "Rollback";

/** `git log --format` placeholder printing the trailer's values, separated by \x03. */
export const ROLLBACK_FORMAT = `%(trailers:key=${ROLLBACK_TRAILER},valueonly,separator=%x03)`;

/** The trailer values of one commit (ROLLBACK_FORMAT's output) → the paths it names. */
export function parseRollbacks(values: string): Set<string> {
  const paths = new Set<string>();
  for (const value of values.split("\x03")) {
    const path = value.trim().split(/\s+/)[0];
    if (path) paths.add(path);
  }
  return paths;
}

export function rollbackTrailer(path: string, version: number): string {
  return `${ROLLBACK_TRAILER}: ${path} to version ${version}`;
}
