import type { Role } from "../domain/access.ts";

// Case-insensitive, as the token check always was: it must not depend on a spelling a proxy might
// normalise (the router then answers 404 for a spelling it does not serve).
const USER_PATH = /^\/(user|api|status)(\/|$)/i;
const USER_API_WRITE = /^\/user\/(create|update|delete|apply|remove)/i;
/** Rewrites of history or of the fleet wholesale: admin. */
const ADMIN_WRITE = /^\/api\/v1\/((instance-)?configs\/[^/]+\/rollback|rollouts?|imports?)(\/|$)/i;
/** A POST that writes nothing (a dry-run check of a file): a read. */
const READ_POST = /^\/api\/v1\/validate\/?$/i;
const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The role a request needs, from its method and path; undefined where no user token is asked for
 * (agents, webhooks, probes, metrics, the console's files, `/`). Anything under /User, /api or
 * /status not known to be a read needs at least editor, so a new write route is never open to a
 * viewer by mistake.
 */
export function requiredRole(method: string, path: string): Role | undefined {
  if (!USER_PATH.test(path)) return undefined;
  if (path.charCodeAt(1) === 0x55 || path.charCodeAt(1) === 0x75) return USER_API_WRITE.test(path) ? "editor" : "viewer";
  if (ADMIN_WRITE.test(path)) return READ_METHODS.has(method) ? "viewer" : "admin";
  return READ_METHODS.has(method) || READ_POST.test(path) ? "viewer" : "editor";
}

/** What a role is for, in a refusal. */
export const ROLE_DOES: Readonly<Record<Role, string>> = {
  viewer: "reads",
  editor: "changes configs and agent groups",
  admin: "rolls back configs and changes rollouts and imports",
};
