import type { Person } from "./identity.ts";

/**
 * What a user token may do, each role including the ones before it: `viewer` reads (the User
 * API's reads, the JSON API's, /status), `editor` also changes configs and agent groups, `admin`
 * also rolls back and whatever else rewrites history or the fleet wholesale (rollouts, imports).
 */
export const ROLES = ["viewer", "editor", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** Whether `held` includes what `needed` allows. */
export const allows = (held: Role, needed: Role): boolean => ROLES.indexOf(held) >= ROLES.indexOf(needed);

/** One user token: who holds it (its name, in logs and refusals), what it may do, and who its writes are by. */
export interface NamedToken {
  readonly name: string;
  readonly token: string;
  readonly role: Role;
  /** The commit author of its writes; undefined: the server's own identity (--author), as for --user-token. */
  readonly identity: Person | undefined;
  /** Whether its X-Configserver-Author header names the commit author (else the header is ignored). */
  readonly setsAuthor: boolean;
}
