import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { NamedToken } from "../domain/access.ts";

const BEARER = /^Bearer +(\S+) *$/i;
const digest = (s: string) => createHash("sha256").update(s).digest("base64");

/** The name `--user-token` goes by: an admin token that may set the author, as it always could. */
export const USER_TOKEN_NAME = "user-token";

/**
 * The user tokens: the settings file's named ones, and --user-token as an admin. Looked up by the
 * SHA-256 of the presented token, so comparing takes the same time whatever the token shares with
 * a real one (a hash's prefix says nothing about the token).
 */
export class TokenTable {
  private readonly byDigest = new Map<string, NamedToken>();

  constructor(named: readonly NamedToken[], userToken?: string) {
    const all = userToken === undefined ? named : [...named, { name: USER_TOKEN_NAME, token: userToken, role: "admin" as const, identity: undefined, setsAuthor: true }];
    for (const t of all) {
      const d = digest(t.token);
      const other = this.byDigest.get(d);
      if (other !== undefined) throw new Error(`user tokens "${other.name}" and "${t.name}" are the same token: each token must be unique (it says who is asking)`);
      this.byDigest.set(d, t);
    }
  }

  get size(): number {
    return this.byDigest.size;
  }

  /** The token an `Authorization: Bearer <token>` header presents, if it is one of these. */
  find(authorization: string | undefined): NamedToken | undefined {
    const m = authorization === undefined ? null : BEARER.exec(authorization);
    return m === null ? undefined : this.byDigest.get(digest(m[1] as string));
  }
}

// Who is asking, per request: set by the token check (auth.ts), read where a write names its
// author (writeOptions.ts). A WeakMap: nothing to clean up when the request is gone.
const callers = new WeakMap<IncomingMessage, NamedToken>();

export const setCaller = (req: IncomingMessage, token: NamedToken): void => void callers.set(req, token);
/** The token the request was let in with; undefined when the server has no user tokens. */
export const callerOf = (req: IncomingMessage): NamedToken | undefined => callers.get(req);
