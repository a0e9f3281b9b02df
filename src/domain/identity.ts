/** Who a commit names: git's `Name <email>`. */
export interface Person {
  readonly name: string;
  readonly email: string;
}

/** Why a value was refused, in words that complete "… is refused: ". */
export interface Problem {
  readonly problem: string;
}

export const MAX_IDENTITY_LENGTH = 256;
/** A commit message given with a write is one subject line: git log, GitHub and the history show it whole. */
export const MAX_MESSAGE_LENGTH = 500;

// Control characters (C0, DEL, C1) and the Unicode line and paragraph separators: none belongs
// in a commit header or a subject line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const IDENTITY = /^([^<>]+?) <([^<>\s@]+@[^<>\s@]+)>$/;

/**
 * `Name <email>` as a person writes it for `git commit --author`, or why it is not one. Stricter
 * than git, which silently drops `<`, `>` and newlines from names: here they are refused, so the
 * commit says exactly what was sent.
 */
export function parseIdentity(text: string): Person | Problem {
  const s = text.trim();
  if (s.length > MAX_IDENTITY_LENGTH) return { problem: `it is longer than ${MAX_IDENTITY_LENGTH} characters` };
  if (CONTROL.test(s)) return { problem: "it contains a control character" };
  const m = IDENTITY.exec(s);
  if (!m) return { problem: 'it is not "Name <email>" (a name, a space, then an email address such as ann@example.com in angle brackets)' };
  return { name: (m[1] as string).trim(), email: m[2] as string };
}

/** A commit message given with a write, trimmed, or why it cannot be one. */
export function parseCommitMessage(text: string): string | Problem {
  const s = text.trim();
  if (s === "") return { problem: "it is empty" };
  if (s.length > MAX_MESSAGE_LENGTH) return { problem: `it is longer than ${MAX_MESSAGE_LENGTH} characters` };
  if (CONTROL.test(s)) return { problem: "it contains a control character (it is one line)" };
  return s;
}

/**
 * The commit message of a write: the person's message as the subject, what the server did as the
 * body; without one, what the server did (`Update config x`) is the subject.
 */
export function commitMessage(planned: string, given: string | undefined): string {
  return given === undefined ? planned : `${given}\n\n${planned}`;
}
