/**
 * One fuzz request (test/fuzz.test.ts) from a seeded PRNG: a route of fuzzRoutes.ts, a body
 * (valid, mutated or random; protobuf or JSON), hostile headers, odd methods and paths. A few
 * are written byte by byte (`raw`) for what node:http's client refuses to send: duplicate
 * Content-Length, bad line endings, odd request lines.
 */
import { createHmac } from "node:crypto";
import { gzipSync } from "node:zlib";
import { chance, deepJson, deepProtobuf, hostileString, int, INVALID_UTF8, mutateBytes, mutateText, pbField, pbHead, pbVarint, pick, randomBytes, randomField, type Rng } from "./fuzzBytes.ts";
import type { FuzzRoute, MessageType } from "./fuzzRoutes.ts";

export interface FuzzRequest {
  readonly route: FuzzRoute;
  /** What was done to it, for a failure's message. */
  readonly label: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** The whole request as bytes on a socket (headers and body above are then only descriptive). */
  readonly raw?: Buffer;
  /** It may commit: a write route, with a method that writes. */
  readonly mayWrite: boolean;
}

const WRITE_METHODS = new Set(["POST", "PUT", "DELETE"]);

const camel = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(camel)
  : v && typeof v === "object" && !Buffer.isBuffer(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), camel(x)]))
  : v;

/** The message's own type when it is an instance of a generated class (the other protocol on a shared path), else the route's. */
const typeOf = (route: MessageType, message: unknown): MessageType => {
  const own = (message as { constructor?: unknown }).constructor as Partial<MessageType> | undefined;
  return own && own !== Object && typeof own.encode === "function" ? (own as MessageType) : route;
};

function encode(routeType: MessageType, message: unknown): Buffer {
  const type = typeOf(routeType, message);
  return Buffer.from(type.encode(type.fromObject(message as Record<string, unknown>) as never).finish());
}

/** protobuf's JSON mapping of a message (bytes as base64, int64 as strings), in either spelling. */
function toJson(rng: Rng, routeType: MessageType, message: unknown): string {
  const type = typeOf(routeType, message);
  const o = type.toObject(type.fromObject(message as Record<string, unknown>) as never, { longs: String, bytes: String, defaults: false });
  return JSON.stringify(chance(rng, 0.5) ? camel(o) : o);
}

const JSON_TYPES = ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/json; charset=utf-16", "application/vnd.api+json"];
const PB_TYPES = ["application/x-protobuf", "application/protobuf", "application/octet-stream", ""];
const ODD_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json, application/x-protobuf", "x/y; a=\"b", ";;;", "application/x-protobuf; proto=x", "*/*", "text/html; charset=\"\u00e9\""];
const ACCEPTS = ["application/json", "application/x-protobuf", "*/*", "text/html", "application/json;q=0, */*;q=0", "application/json;q=abc", "image/png", `${"a/b, ".repeat(500)}application/json`, ""];
const ENCODINGS = ["gzip", "br", "deflate", "identity", "gzip, gzip", "x-unknown", "chunked"];

type Body = { body: Buffer; type: string | undefined; label: string };

function messageBody(rng: Rng, route: FuzzRoute): Body {
  const type = route.request as MessageType;
  const valid = route.valid(rng);
  const pbType = () => pick(rng, PB_TYPES) || undefined;
  switch (int(rng, 14)) {
    case 0: case 1: case 2: return { body: encode(type, valid), type: pbType(), label: "valid protobuf" };
    case 3: case 4: return { body: mutateBytes(rng, encode(type, valid)), type: pbType(), label: "mutated protobuf" };
    case 5: return { body: chance(rng, 0.5) ? randomBytes(rng, int(rng, 300)) : Buffer.concat(Array.from({ length: 1 + int(rng, 6) }, () => randomField(rng))), type: pbType(), label: "random protobuf fields" };
    case 6: case 7: return { body: Buffer.from(toJson(rng, type, valid)), type: pick(rng, JSON_TYPES), label: "valid JSON" };
    case 8: return { body: Buffer.from(mutateText(rng, toJson(rng, type, valid))), type: "application/json", label: "mutated JSON" };
    case 9: return jsonTrouble(rng);
    case 10: return { body: deepMessage(rng, route), type: pbType(), label: "deeply nested protobuf" };
    case 11: return { body: Buffer.from(toJson(rng, type, valid)), type: pick(rng, ODD_TYPES), label: "JSON with an odd Content-Type" };
    case 12: return { body: Buffer.alloc(0), type: chance(rng, 0.5) ? "application/json" : undefined, label: "empty body" };
    default: return bigBody(rng);
  }
}

/** JSON that parses badly or means nothing: deep nesting, invalid UTF-8, wrong types, prototype keys. */
function jsonTrouble(rng: Rng): Body {
  const body = pick(rng, [
    () => Buffer.from(deepJson(pick(rng, [100, 5_000, 100_000]), chance(rng, 0.5) ? "array" : "object")),
    () => Buffer.concat([Buffer.from('{"config_name": "a'), pick(rng, INVALID_UTF8), Buffer.from('"}')]),
    () => Buffer.from(pick(rng, ['{"__proto__": {"polluted": 1}}', '{"constructor": {"prototype": {"x": 1}}}', '{"configDetail": "x"}', '{"configDetail": {"configName": 7}}', '{"agentGroup": {"tags": {"a": 1}}}', "[]", "null", "1", '"s"', '{"a": 1, "a": 2}', '{"configName": "a", "config_name": "b"}', '{"version": 1e999}', "{\"x\": \"\\ud800\"}"])),
    () => Buffer.from(JSON.stringify({ configDetail: { configName: hostileString(rng), content: hostileString(rng) }, groupName: hostileString(rng) })),
  ])();
  return { body, type: "application/json", label: "hostile JSON" };
}

/** A body over the agent or user limits (64 KiB to 4.5 MiB). */
function bigBody(rng: Rng): Body {
  const n = pick(rng, [70 * 1024, 1024 * 1024 + 1, 4.5 * 1024 * 1024]);
  return chance(rng, 0.5)
    ? { body: Buffer.concat([Buffer.from('{"a":"'), Buffer.alloc(n, "x"), Buffer.from('"}')]), type: "application/json", label: `big JSON (${n} B)` }
    : { body: Buffer.concat([pbField(1, Buffer.alloc(n, 1))]), type: undefined, label: `big protobuf (${n} B)` };
}

/** Deep recursion through the route's own message types where they nest (OpAMP), else through unknown fields. */
function deepMessage(rng: Rng, route: FuzzRoute): Buffer {
  const depth = pick(rng, [50, 2_000, 20_000]);
  if (route.route === "/v1/opamp") {
    // ComponentHealth.component_health_map (6) → entry value (2) → ComponentHealth …, under AgentToServer.health (5).
    // An entry: 1 key "c" (3 bytes), then 2 the value's head, then the value.
    const health = deepProtobuf(depth, (n) => Buffer.concat([pbHead(6, 3 + pbHead(2, n).length + n), pbField(1, Buffer.from("c")), pbHead(2, n)]), pbVarint(1, 1));
    return Buffer.concat([pbField(1, Buffer.from("0123456789abcdef")), pbField(5, health)]);
  }
  return deepProtobuf(depth, (n) => pbHead(pick(rng, [4, 6, 99]), n));
}

function jsonRouteBody(rng: Rng, route: FuzzRoute): Body {
  const valid = route.valid(rng);
  if (valid === undefined && chance(rng, 0.8)) return { body: Buffer.alloc(0), type: undefined, label: "no body" };
  switch (int(rng, 8)) {
    case 0: case 1: case 2: return { body: Buffer.from(JSON.stringify(valid ?? {})), type: pick(rng, JSON_TYPES), label: "valid JSON" };
    case 3: return { body: Buffer.from(mutateText(rng, JSON.stringify(valid ?? {}))), type: "application/json", label: "mutated JSON" };
    case 4: return jsonTrouble(rng);
    case 5: return { body: Buffer.from(JSON.stringify(valid ?? {})), type: pick(rng, ODD_TYPES), label: "JSON with an odd Content-Type" };
    case 6: return { body: randomBytes(rng, int(rng, 200)), type: pick(rng, [...JSON_TYPES, ...PB_TYPES]) || undefined, label: "random bytes" };
    default: return chance(rng, 0.2) ? bigBody(rng) : { body: Buffer.alloc(0), type: "application/json", label: "empty body" };
  }
}

/** The same path spelled another way: trailing slash, case, percent-encoding, dot segments, odd queries. */
function oddPath(rng: Rng, path: string): { path: string; label: string } {
  const [p = "", q] = path.split("?");
  const change = pick(rng, [
    ["trailing slash", () => `${p}/`], ["double slash", () => p.replace("/", "//")], ["upper case", () => p.toUpperCase()], ["lower case", () => p.toLowerCase()],
    ["percent-encoded", () => p.replace(/[A-Za-z]/, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)], ["dot segment", () => p.replace(/\/([^/]*)$/, "/./$1")],
    ["dot-dot segment", () => p.replace(/\/([^/]*)$/, "/zz/../$1")], ["bad percent", () => `${p}%ZZ`], ["odd query", () => `${p}?${pick(rng, ["%ZZ=1", "a[]=1&a[b]=2", "configName=a&configName=b", "config_name=nginx-access&configName=x", `groupName=${encodeURIComponent(hostileString(rng).replace(/[\ud800-\udfff]/g, "\ufffd"))}`, "=", "&&&", "x".repeat(4000)])}`],
  ] as const);
  return { path: change[1]() + (q !== undefined && change[0] !== "odd query" ? `?${q}` : ""), label: change[0] };
}

function hostileHeaders(rng: Rng, route: FuzzRoute, headers: Record<string, string>, labels: string[]): void {
  const add = (label: string, name: string, value: string) => {
    headers[name] = value;
    labels.push(label);
  };
  if (chance(rng, 0.25)) add("odd Accept", "accept", pick(rng, ACCEPTS));
  if (chance(rng, 0.06)) add("Content-Encoding", "content-encoding", pick(rng, ENCODINGS));
  if (chance(rng, 0.03)) add("huge header", `x-fuzz-${int(rng, 9)}`, "v".repeat(pick(rng, [4_000, 12_000, 40_000])));
  if (chance(rng, 0.04)) add("foreign Origin", "origin", pick(rng, ["https://evil.example", "null", "http://127.0.0.1:1", "\u00e9"]));
  if (chance(rng, 0.03)) add("foreign Host", "host", pick(rng, ["evil.example", "127.0.0.1.nip.io", "[::1]:80", "localhost:99999", ""]));
  if (chance(rng, 0.04)) add("Authorization", "authorization", pick(rng, ["Bearer x", "Basic Zm9vOmJhcg==", "Bearer " + "t".repeat(3000), "bearer", ""]));
  if (chance(rng, 0.04)) add("If-None-Match", "if-none-match", pick(rng, ["*", 'W/"x"', '"', "W/".repeat(200)]));
  if (chance(rng, 0.03)) add("Expect", "expect", pick(rng, ["100-continue", "200-ok"]));
  if (route.write && chance(rng, 0.3)) add("author header", "x-configserver-author", pick(rng, ["Ann Example <ann@example.com>", "ann", "Ann <ann@example.com>\u00e9", "<>", `${"A".repeat(300)} <a@b>`]));
  if (route.write && chance(rng, 0.15)) add("message header", "x-configserver-message", pick(rng, ["fuzz change", "", "m".repeat(600), "line\tbreak"]));
}

/** Requests node:http's client will not write: duplicate or conflicting framing headers, bad line endings, odd request lines. */
function rawRequest(rng: Rng, route: FuzzRoute, path: string, body: Buffer): { raw: Buffer; label: string; method: string } {
  const line = (method: string, target: string, version = "HTTP/1.1") => `${method} ${target} ${version}\r\nHost: 127.0.0.1\r\nConnection: close\r\n`;
  const m = route.method;
  const [label, head, payload] = pick(rng, [
    ["duplicate Content-Length", `${line(m, path)}Content-Length: ${body.length}\r\nContent-Length: ${body.length}\r\n\r\n`, body],
    ["conflicting Content-Length", `${line(m, path)}Content-Length: ${body.length}\r\nContent-Length: ${body.length + 1}\r\n\r\n`, body],
    ["Content-Length and chunked", `${line(m, path)}Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n`, body],
    ["bad chunked body", `${line(m, path)}Transfer-Encoding: chunked\r\n\r\n`, Buffer.from(`${pick(rng, ["zz", "fffffffffffffffff", "-1", "3"])}\r\nabc\r\n0\r\n\r\n`)],
    ["bare LF", `${m} ${path} HTTP/1.1\nHost: 127.0.0.1\nConnection: close\nContent-Length: ${body.length}\n\n`, body],
    ["absolute-form target", `${line(m, `http://127.0.0.1${path}`)}Content-Length: ${body.length}\r\n\r\n`, body],
    ["asterisk target", `${line("OPTIONS", "*")}\r\n`, Buffer.alloc(0)],
    ["unknown method", `${line(pick(rng, ["FOO", "get", "BREW", "CONNECT"]), path)}\r\n`, Buffer.alloc(0)],
    ["HTTP/1.0", `${line(m, path, "HTTP/1.0")}Content-Length: ${body.length}\r\n\r\n`, body],
    ["HTTP/2.0 line", `${line(m, path, "HTTP/2.0")}\r\n`, Buffer.alloc(0)],
    ["obs-fold header", `${line(m, path)}X-A: a\r\n b\r\nContent-Length: ${body.length}\r\n\r\n`, body],
    ["NUL in a header", `${line(m, path)}X-A: a\u0000b\r\nContent-Length: ${body.length}\r\n\r\n`, body],
    ["raw bytes in the path", `${m} ${path}/\u00e9 x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, Buffer.alloc(0)],
    ["many headers", `${line(m, path)}${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join("")}\r\n`, Buffer.alloc(0)],
    ["invalid UTF-8 in the path", null, Buffer.alloc(0)],
  ] as const);
  if (head === null) return { raw: Buffer.concat([Buffer.from(`GET ${path}`), pick(rng, INVALID_UTF8), Buffer.from(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")]), label, method: "GET" };
  return { raw: Buffer.concat([Buffer.from(head, "latin1"), payload]), label, method: head.slice(0, head.search(/ /)) };
}

/** Request number `i` of a run, from its own PRNG: the same seed gives the same requests in any order. */
export function fuzzRequest(rng: Rng, routes: readonly FuzzRoute[], webhookSecret: string): FuzzRequest {
  const route = pick(rng, routes);
  const labels: string[] = [];
  const b = route.request ? messageBody(rng, route) : jsonRouteBody(rng, route);
  labels.push(b.label);
  let path = route.path(rng);
  if (chance(rng, 0.12)) {
    const odd = oddPath(rng, path);
    path = odd.path;
    labels.push(odd.label);
  }
  let method = route.method;
  if (chance(rng, 0.08)) {
    method = pick(rng, ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]);
    labels.push(`method ${method}`);
  } else if (route.family === "user" && chance(rng, 0.3)) method = "POST";
  const headers: Record<string, string> = {};
  if (b.type !== undefined) headers["content-type"] = b.type;
  let body = b.body;
  if (route.route === "/v1/opamp" && chance(rng, 0.1)) {
    body = gzipSync(chance(rng, 0.8) ? body : Buffer.alloc(8 * 1024 * 1024));
    headers["content-encoding"] = "gzip";
    labels.push("gzipped");
  }
  if (route.route === "/hooks/git" && chance(rng, 0.7)) {
    const sig = createHmac("sha256", webhookSecret).update(body).digest("hex");
    const right = chance(rng, 0.8);
    if (chance(rng, 0.7)) headers["x-hub-signature-256"] = right ? `sha256=${sig}` : "sha256=00";
    else headers["x-gitea-signature"] = right ? sig : "00";
    if (chance(rng, 0.5)) headers["x-github-delivery"] = `d-${int(rng, 20)}`;
    labels.push("signed");
  }
  hostileHeaders(rng, route, headers, labels);
  const mayWrite = route.write && WRITE_METHODS.has(method);
  if (chance(rng, 0.05)) {
    const r = rawRequest(rng, route, path, body);
    return { route, method: r.method, path, headers, body, raw: r.raw, label: [r.label, ...labels].join(", "), mayWrite: route.write && WRITE_METHODS.has(r.method) };
  }
  if (chance(rng, 0.05) && body.length > 0) {
    headers["transfer-encoding"] = "chunked";
    labels.push("chunked");
  } else headers["content-length"] = String(body.length);
  return { route, method, path, headers, body, label: labels.join(", "), mayWrite };
}
