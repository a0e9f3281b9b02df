import { isIP } from "node:net";
import type { Context, Middleware, Next } from "koa";
import { answerCode, type EndpointsByPath } from "./codeAnswer.ts";

export interface BrowserGuardOptions {
  /**
   * Host names served besides loopback names and IP addresses (--host, this machine's name,
   * --allowed-hosts): lowercase, `*.domain` for a domain's names, `*` for any.
   */
  readonly hosts: readonly string[];
  /** The names an operator listed (--allowed-hosts): a page served under one may write (a proxy's public name). */
  readonly origins: readonly string[];
}

// Agents, signed webhooks, probes and Prometheus are not browsers, and reach the server by
// whatever name their network gives it. Agents are admitted by the agent token (and networks).
const NOT_BROWSER_BUSINESS = /^\/(agent(\/|$)|hooks\/|healthz\/?$|readyz\/?$|metrics\/?$)/i;
const USER_API = /^\/user\//i;
const JSON_API = /^\/api\//i;
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
const JSON_TYPE = "application/json";
const PROTOBUF_TYPE = "application/x-protobuf";

/** A Content-Type's media type: lowercase, without parameters. */
const mediaType = (contentType: string) => (contentType.split(";")[0] as string).trim().toLowerCase();

/** The host name of a Host or Origin authority (`name:port`, `[v6]:port`), lowercase; undefined when it is none. */
function hostName(authority: string): string | undefined {
  try {
    const url = new URL(`http://${authority}`);
    if (url.username || url.password || url.pathname !== "/" || url.search || url.hash) return undefined;
    return url.hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  } catch {
    return undefined;
  }
}

const LOOPBACK_NAMES = /^(localhost|.*\.localhost)$/;

/** Whether `name` is one of `list` (exact, `*.domain` for a domain's names, `*` for any). */
function listed(name: string, list: readonly string[]): boolean {
  for (const entry of list) {
    if (entry === "*" || entry === name) return true;
    if (entry.startsWith("*.") && name.endsWith(entry.slice(1))) return true;
  }
  return false;
}

/**
 * What keeps a web page in an operator's browser from using the server (issue 23):
 * - `Host` must name this server: a page whose DNS name was rebound to the server's address
 *   sends its own name, and is refused (403) for reads and writes. IP addresses and loopback
 *   names always pass (a rebinding needs a name the attacker controls).
 * - A request that is not GET or HEAD with an `Origin` other than the server's own (the Host it
 *   was sent to, or a name listed in --allowed-hosts) is refused (403): browsers send Origin with
 *   every such request.
 * - A User API request with a body type a page may send without asking first (text/plain, a
 *   form) is refused 415 in the route's own message: reference clients send protobuf with no
 *   Content-Type or application/x-protobuf, scripts JSON. A JSON API write must say
 *   application/json.
 * - Every answer says `X-Content-Type-Options: nosniff`.
 * Agents' requests are left alone (they never reach koa on their exact paths; the others not here).
 */
export function browserGuard(options: BrowserGuardOptions, responses: EndpointsByPath): Middleware {
  const hosts = options.hosts;
  const anyHost = hosts.includes("*");
  const hostServed = (name: string) => anyHost || isIP(name) !== 0 || LOOPBACK_NAMES.test(name) || listed(name, hosts);
  return (ctx: Context, next: Next) => {
    ctx.set("x-content-type-options", "nosniff");
    const path = ctx.path;
    if (NOT_BROWSER_BUSINESS.test(path)) return next();
    const host = ctx.get("host");
    // HTTP/1.0 clients may send none; browsers always do.
    if (host !== "") {
      const name = hostName(host);
      if (name === undefined || !hostServed(name)) {
        answerCode(ctx, responses, "Forbidden", `Host ${JSON.stringify(host.slice(0, 200))} is not a name this server answers to. Reach it by an address it serves, or add the name to --allowed-hosts (a refused name may be a web page rebinding its DNS name to this server).`);
        return Promise.resolve();
      }
    }
    if (SAFE.has(ctx.method)) return next();
    const origin = ctx.get("origin");
    if (origin !== "" && !sameOrigin(origin, host, options.origins)) {
      answerCode(ctx, responses, "Forbidden", `Origin ${JSON.stringify(origin.slice(0, 200))} is not this server: requests that change something are refused from other sites' pages. A page served under another name (a proxy's) needs that name in --allowed-hosts.`);
      return Promise.resolve();
    }
    const type = ctx.get("content-type");
    const media = type === "" ? "" : mediaType(type);
    if (USER_API.test(path) ? media !== "" && media !== JSON_TYPE && media !== PROTOBUF_TYPE : JSON_API.test(path) && media !== JSON_TYPE) {
      answerCode(ctx, responses, "BadRequest", USER_API.test(path)
        ? `The body's Content-Type ${JSON.stringify(type.slice(0, 200))} is not accepted: send JSON with Content-Type: application/json, or a binary protobuf message with Content-Type: application/x-protobuf (or none).`
        : `${type === "" ? "The request has no Content-Type" : `The body's Content-Type ${JSON.stringify(type.slice(0, 200))} is not JSON`}: send the JSON body with Content-Type: application/json.`);
      ctx.status = 415;
      return Promise.resolve();
    }
    return next();
  };
}

/** Whether an Origin is the server's own: its host and port are the request's Host, or its name is one the operator listed. */
function sameOrigin(origin: string, host: string, listedNames: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (a sandboxed frame, a file) and anything unparsable
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  if (host !== "" && url.host.toLowerCase() === host.toLowerCase()) return true;
  const name = hostName(url.host);
  return name !== undefined && listed(name, listedNames.filter((n) => n !== "*"));
}
