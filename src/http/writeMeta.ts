import type { Context } from "koa";
import { DomainError } from "../domain/errors.ts";
import type { Author } from "../store/repoStore.ts";

/** Who makes a write and why, as the request says (the same headers as the User API's writes). */
export interface WriteMeta {
  readonly author?: Author | undefined;
  readonly message?: string | undefined;
}

const AUTHOR = /^\s*([^<>\n]*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/;
const MAX_MESSAGE = 4096;

/**
 * `X-Configserver-Author: Name <email>` and `X-Configserver-Message`, each percent-encoded UTF-8
 * when it is not ASCII (browsers send header values as Latin-1 only). Absent = the server's default.
 */
export function writeMeta(ctx: Context): WriteMeta {
  const decode = (header: string) => {
    const raw = ctx.get(header);
    if (raw === "") return undefined;
    try {
      return decodeURIComponent(raw);
    } catch {
      throw new DomainError("BadRequest", `Header ${header} is not valid percent-encoded UTF-8.`);
    }
  };
  const authorText = decode("x-configserver-author");
  const message = decode("x-configserver-message");
  let author: Author | undefined;
  if (authorText !== undefined) {
    const m = AUTHOR.exec(authorText);
    if (!m || m[1] === "") throw new DomainError("BadRequest", `Header X-Configserver-Author must be "Name <email>", got ${JSON.stringify(authorText)}.`);
    author = { name: m[1] as string, email: m[2] as string };
  }
  if (message !== undefined && (message.trim() === "" || message.length > MAX_MESSAGE)) {
    throw new DomainError("BadRequest", `Header X-Configserver-Message must be a non-empty commit message of at most ${MAX_MESSAGE} characters.`);
  }
  return { author, message: message?.trim() };
}
