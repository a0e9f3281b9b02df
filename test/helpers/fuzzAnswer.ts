/**
 * Sending a fuzz request (fuzzRequest.ts) and judging its answer: the status is one the server
 * documents, a 500 is one of the documented ones, and the body is well-formed for its
 * Content-Type and route (JSON parses, protobuf decodes as the route's answer type).
 */
import { request } from "node:http";
import { connect } from "node:net";
import type { FuzzRequest } from "./fuzzRequest.ts";
import type { MessageType } from "./fuzzRoutes.ts";

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** The connection closed without an answer (the server may close early on a refused body, or on a request node cannot parse). */
export interface Closed {
  readonly closed: string;
}

/** Sends one request; an answer, a close without one, or a rejection when nothing came back within `timeoutMs` (a hang). */
export function exchange(url: string, r: FuzzRequest, timeoutMs: number): Promise<Answer | Closed> {
  return r.raw ? rawExchange(url, r.raw, timeoutMs) : httpExchange(url, r, timeoutMs);
}

function httpExchange(url: string, r: FuzzRequest, timeoutMs: number): Promise<Answer | Closed> {
  return new Promise((resolve, reject) => {
    let req;
    try {
      req = request(`${url}${r.path}`, { method: r.method, headers: r.headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", (e) => resolve({ closed: e.message }));
      });
    } catch (e) {
      // node's client refused to write it (an invalid header value): nothing was sent.
      return resolve({ closed: `not sent: ${(e as Error).message}` });
    }
    req.on("error", (e: NodeJS.ErrnoException) => (e.code === "ECONNREFUSED" ? reject(e) : resolve({ closed: e.code ?? e.message })));
    req.setTimeout(timeoutMs, () => reject(new Error(`no answer within ${timeoutMs} ms`)));
    req.end(r.body);
  });
}

function rawExchange(url: string, bytes: Buffer, timeoutMs: number): Promise<Answer | Closed> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname);
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    });
    socket.on("error", (e: NodeJS.ErrnoException) => (e.code === "ECONNREFUSED" ? reject(e) : undefined));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("close", () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf("\r\n\r\n");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(all.subarray(0, 20).toString("latin1"));
      if (!m || end < 0) return resolve({ closed: all.length ? `unparsable answer: ${JSON.stringify(all.subarray(0, 80).toString("latin1"))}` : "closed" });
      const headers: Record<string, string> = {};
      for (const l of all.subarray(0, end).toString("latin1").split("\r\n").slice(1)) {
        const i = l.indexOf(":");
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      // Only the first answer's head is judged; its body is whatever follows (chunked framing included).
      resolve({ status: Number(m[1]), headers, body: all.subarray(end + 4) });
    });
    // Not end(): node:http drops the requests of a connection its client half-closes; the server closes it (Connection: close).
    socket.write(bytes);
  });
}

/** Every status the server or node:http answers with by design (the 500s are checked separately). */
const STATUSES = new Set([200, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405, 409, 413, 414, 415, 417, 431, 500, 501, 505]);
/** What node:http answers itself, before the server sees the request: a bare status line, no body (an unknown Expect is 417, oversized headers 431). */
const NODE_REFUSALS = new Set([400, 413, 414, 417, 431, 501, 505]);

/** The 500s docs/api.md documents: the alpha User API's refusal to delete what is applied, and RequestTimeout. */
const APPLIED = /^(Config|Agent group) \S+ was applied to some (agent groups|configs), cannot be deleted\.$/;
const TIMEOUT = /^The request was not answered within \d+ ms\./;

/** `code` and `message` of a JSON or protobuf answer whose message starts with them (alpha, User API, JSON API). */
function codeOf(a: Answer, type: string, responses: readonly MessageType[] | undefined): { code?: unknown; message?: unknown } {
  try {
    if (type.startsWith("application/json")) return JSON.parse(a.body.toString("utf8")) as { code?: unknown; message?: unknown };
    if (type === "application/x-protobuf" && responses?.[0]) return responses[0].decode(a.body) as { code?: unknown; message?: unknown };
  } catch {
    // judged as malformed elsewhere
  }
  return {};
}

function documented500(r: FuzzRequest, a: Answer, type: string): boolean {
  const { code, message } = codeOf(a, type, r.route.responses);
  if (code === "RequestTimeout" && typeof message === "string" && TIMEOUT.test(message)) return true;
  const deletes = r.route.route === "/User/DeleteConfig" || r.route.route === "/User/DeleteAgentGroup";
  return deletes && code === "InternalServerError" && typeof message === "string" && APPLIED.test(message);
}

/** What is wrong with an answer, or undefined when it is one the server documents for that route. */
export function answerProblem(r: FuzzRequest, a: Answer): string | undefined {
  const type = String(a.headers["content-type"] ?? "").toLowerCase();
  if (!STATUSES.has(a.status)) return `status ${a.status}`;
  if (a.status === 500 && !documented500(r, a, type)) return `an undocumented 500: ${a.body.subarray(0, 300).toString("utf8")}`;
  const text = a.body.toString("utf8");
  if (r.method === "HEAD" || a.status === 304 || a.status === 204) return a.body.length === 0 ? undefined : `a ${a.status} with a body`;
  if (type === "") {
    if (NODE_REFUSALS.has(a.status) && a.body.length === 0) return undefined;
    // koa's answer to OPTIONS: the methods in Allow, no body.
    if (r.method === "OPTIONS" && a.status === 200 && a.headers.allow !== undefined && a.body.length === 0) return undefined;
    return `no Content-Type on a ${a.status}`;
  }
  if (type.startsWith("application/json")) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return `JSON that does not parse: ${text.slice(0, 200)}`;
    }
    if (!v || typeof v !== "object") return `JSON that is not an object: ${text.slice(0, 200)}`;
    const code = (v as { code?: unknown }).code;
    // The User API and the JSON API say what happened in `code`; agent protocols have their own envelopes.
    if ((r.route.family === "user" || r.route.family === "json") && a.status >= 400 && r.route.route !== "/hooks/git" && r.route.route !== "/readyz" && typeof code !== "string") return `a ${a.status} without a code: ${text.slice(0, 200)}`;
    return undefined;
  }
  if (type === "application/x-protobuf") {
    const responses = r.route.responses;
    if (!responses) return `protobuf from ${r.route.route}, a route that answers JSON`;
    if (!a.headers["x-log-requestid"]) return "protobuf answer without x-log-requestid";
    const decodes = responses.some((t) => {
      try {
        t.decode(a.body);
        return true;
      } catch {
        return false;
      }
    });
    return decodes ? undefined : `protobuf that does not decode as ${r.route.route}'s answer`;
  }
  if (type.startsWith("text/plain")) {
    if (r.method === "OPTIONS" && a.status === 200 && a.headers.allow !== undefined && a.body.length === 0) return undefined;
    if (r.route.family === "metrics" && a.status === 200) return /^# HELP /m.test(text) ? undefined : "metrics without # HELP lines";
    if (a.status >= 300 && a.status < 400) return a.headers.location ? undefined : `a ${a.status} without Location`;
    // koa's own answers for an unmatched path or method, and the console's file-not-found.
    return a.status >= 400 && a.status < 500 && text.length < 2_000 ? undefined : `text/plain ${a.status}: ${text.slice(0, 200)}`;
  }
  if (/^(text\/html|text\/css|application\/javascript|text\/javascript|image\/svg\+xml)/.test(type)) {
    return (r.route.family === "console" || r.route.family === "landing") ? undefined : `${type} from ${r.route.route}`;
  }
  return `Content-Type ${type} on a ${a.status}`;
}
