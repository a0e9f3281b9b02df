import type { Context } from "koa";
import { DomainError } from "../domain/errors.ts";
import type { Author } from "../store/repoStore.ts";

/** Who makes a write and why, as the request says (the same headers as the User API's writes). */
export interface WriteMeta {
  readonly author?: Author | undefined;
  readonly message?: string | undefined;
}

const AUTHOR = /^([^<>]+?) <([^<>\s@]+@[^<>\s@]+)>$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const MAX_MESSAGE = 500;

/** Node reads header bytes as latin1; clients send UTF-8: bytes that are valid UTF-8 are read so. */
function header(ctx: Context, name: string): string | undefined {
  const raw = ctx.get(name);
  if (raw === "") return undefined;
  const utf8 = Buffer.from(raw, "latin1").toString("utf8");
  return (utf8.includes("\ufffd") ? raw : utf8).trim();
}

/** `X-Configserver-Author: Name <email>` and `X-Configserver-Message` (one line); absent = the server's default. */
export function writeMeta(ctx: Context): WriteMeta {
  const authorText = header(ctx, "x-configserver-author");
  const message = header(ctx, "x-configserver-message");
  let author: Author | undefined;
  if (authorText !== undefined) {
    const m = AUTHOR.exec(authorText);
    if (!m || CONTROL.test(authorText)) throw new DomainError("InvalidParameter", `Header X-Configserver-Author ${JSON.stringify(authorText)} is refused: it is not "Name <email>".`);
    author = { name: (m[1] as string).trim(), email: m[2] as string };
  }
  if (message !== undefined && (message === "" || message.length > MAX_MESSAGE || CONTROL.test(message))) {
    throw new DomainError("InvalidParameter", `Header X-Configserver-Message is refused: a commit message is one line of 1 to ${MAX_MESSAGE} characters.`);
  }
  return { author, message };
}
