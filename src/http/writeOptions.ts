import type { IncomingMessage } from "node:http";
import { DomainError } from "../domain/errors.ts";
import { parseCommitMessage, parseIdentity } from "../domain/identity.ts";
import type { WriteOptions } from "../store/repoStore.ts";
import { callerOf } from "./tokens.ts";

/** Who made a change through the User API: the commit's author (the server stays its committer). */
export const AUTHOR_HEADER = "X-Configserver-Author";
/** Why: the commit's subject line (what the server did follows in its body). */
export const MESSAGE_HEADER = "X-Configserver-Message";

/**
 * A header's text. Node hands header bytes over as latin1; clients such as curl send UTF-8, so
 * bytes that are valid UTF-8 are read as UTF-8 ("José" stays "José"), anything else as latin1.
 */
function headerText(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  if (v === undefined) return undefined;
  const raw = Array.isArray(v) ? v.join(", ") : v;
  const utf8 = Buffer.from(raw, "latin1").toString("utf8");
  return utf8.includes("\ufffd") ? raw : utf8;
}

/**
 * The author and message a write request carries in its headers; a malformed one is refused
 * (400 InvalidParameter naming the header) before anything is planned or written. With user
 * tokens, the author is the identity of the token the request came with, unless that token may
 * set the author (tokens.ts): then the header, when given, counts; other tokens' headers are
 * ignored, not refused (a script may send one everywhere).
 */
export function writeOptions(req: IncomingMessage): WriteOptions {
  const out: { author?: WriteOptions["author"]; message?: string } = {};
  const caller = callerOf(req);
  const author = caller === undefined || caller.setsAuthor ? headerText(req, AUTHOR_HEADER) : undefined;
  if (author === undefined && caller?.identity !== undefined) out.author = caller.identity;
  if (author !== undefined) {
    const who = parseIdentity(author);
    if ("problem" in who) throw new DomainError("InvalidParameter", `Header ${AUTHOR_HEADER} ${JSON.stringify(author)} is refused: ${who.problem}.`);
    out.author = who;
  }
  const message = headerText(req, MESSAGE_HEADER);
  if (message !== undefined) {
    const m = parseCommitMessage(message);
    if (typeof m !== "string") throw new DomainError("InvalidParameter", `Header ${MESSAGE_HEADER} is refused: ${m.problem}.`);
    out.message = m;
  }
  return out;
}
