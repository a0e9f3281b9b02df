/**
 * Credentials written into a URL (`https://user:TOKEN@host/…`, `https://TOKEN@host/…`) are how
 * many operators give a server access to a private remote; git repeats the URL in its errors.
 * Everything the server shows (status, logs, errors, the CLI) goes through this: the whole
 * user-info part becomes `***`, because a token is as often the "user" as the password.
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@'"<>]+@/gi;

export function redactSecrets(text: string): string;
export function redactSecrets(text: string | undefined): string | undefined;
export function redactSecrets(text: string | undefined): string | undefined {
  return text === undefined ? undefined : text.replace(USERINFO, "$1***@");
}

/** A failed command's error as shown to people: its first three lines on one, credentials redacted. */
export const shownError = (e: unknown) => redactSecrets(((e as Error).message ?? String(e)).trim().split("\n").slice(0, 3).join(" "));
