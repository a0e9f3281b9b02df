import type { FileWrite } from "../writeTransaction.ts";

export interface Author {
  readonly name: string;
  readonly email: string;
}

export interface CommitRequest {
  /** The commit the write was planned on (HEAD's then); undefined in an empty repository. */
  readonly base: string | undefined;
  readonly files: readonly FileWrite[];
  /** Each path's committed text at `base` (undefined: absent), to undo the working tree. */
  readonly before: ReadonlyMap<string, string | undefined>;
  readonly message: string;
  /** Who asked for the write (the commit's author). */
  readonly author: Author;
  /** The server's identity (the commit's committer). */
  readonly committer: Author;
}

export type CommitOutcome =
  /** The ref moved from `base` to `commit`, whose only parent is `base`. */
  | { readonly kind: "committed"; readonly commit: string }
  /** The ref was no longer at `base` (someone else committed): nothing changed; plan again. */
  | { readonly kind: "moved" }
  /** This backend does not handle the repository's settings; nothing changed (the reason says why). */
  | { readonly kind: "declined"; readonly reason: string };

/**
 * How a planned write becomes a commit. Every backend compares-and-swaps: the ref moves only
 * from the planned base, and the backend returns the commit it made, so the store serves exactly
 * that commit (its parent is the state the write was planned on) or plans again. All of them go
 * through WriteTransaction, so a crash at any instant is repaired the same way.
 */
export interface CommitBackend {
  readonly mode: "in-process" | "git";
  commit(request: CommitRequest): Promise<CommitOutcome>;
}
