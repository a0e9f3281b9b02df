/**
 * Every route the server answers, for the fuzz test (test/fuzz.test.ts), listed from the code:
 * the agent routes of each protocol (src/protocols/agentRoutes.ts and each protocol's routes.ts),
 * the alpha User API (src/protocols/alpha/userRoutes.ts), the JSON API and the operational routes
 * (src/http/*.ts), the webhook and the console's files. Each has a maker of a valid request, which
 * the test sends as it is or breaks.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { configserver, opamp } from "../../src/gen/proto.js";
import { ROUTES } from "./client.ts";
import { chance, hostileString, int, pick, randomBytes, type Rng } from "./fuzzBytes.ts";

export const pb = configserver.proto;
const v1 = configserver.proto.v1;
const v2 = configserver.proto.v2;
const op = opamp.proto.v1;

/** What a protobuf message type offers the test (the generated classes' static methods). */
export interface MessageType {
  encode(m: never): { finish(): Uint8Array };
  decode(b: Uint8Array): unknown;
  fromObject(o: Record<string, unknown>): unknown;
  toObject(m: never, o?: Record<string, unknown>): Record<string, unknown>;
}

/** How an answer of the route must look (test/fuzz.test.ts checks it). */
export type Family = "user" | "agent" | "json" | "metrics" | "console" | "landing";

export interface FuzzRoute {
  readonly family: Family;
  readonly method: string;
  /** The path as documented, with its parameters in `:name` form: the name in the test's tables. */
  readonly route: string;
  /** A path of this route with real or hostile parameters (and a query string for some). */
  readonly path: (rng: Rng) => string;
  /** A request to it may commit. */
  readonly write: boolean;
  /** Protobuf routes: the request type and the answer's possible types (two on a shared path). */
  readonly request?: MessageType;
  readonly responses?: readonly MessageType[];
  /**
   * A valid request body: a message object (proto field names), or on a shared path a message of
   * the other protocol's type (an instance of its generated class); for JSON routes the JSON value;
   * undefined = no body.
   */
  readonly valid: (rng: Rng) => unknown;
}

export const CONFIGS = ["nginx-access", "java-app", "container-stdout", "fz-a", "fz-b", "fz-c"] as const;
export const GROUPS = ["default", "web", "java-services", "k8s-nodes", "fz-g1", "fz-g2"] as const;
export const INSTANCES = ["node-send-limit", "fz-i"] as const;
const AGENTS = Array.from({ length: 12 }, (_, i) => `fz-agent-${i}`);

const name = (rng: Rng, pool: readonly string[]) => (chance(rng, 0.9) ? pick(rng, pool) : hostileString(rng));
/** encodeURIComponent, with a lone surrogate (which it refuses) sent as U+FFFD. */
const enc = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd"));
const seg = (rng: Rng, pool: readonly string[]) => enc(name(rng, pool));

/** Content of a config: pipelines, plain text, and the shapes issue 23 found expensive, kept small. */
export function content(rng: Rng): string {
  return pick(rng, [
    () => "enable: true\ninputs:\n  - Type: input_file\n    FilePaths: [/var/log/x.log]\nflushers:\n  - Type: flusher_stdout\n",
    () => `{"enable": ${chance(rng, 0.5)}, "inputs": [{"Type": "input_file"}]}`,
    () => "just some text, not a pipeline",
    () => `a${" ".repeat(int(rng, 20_000))}`,
    () => `x: &a ${"y".repeat(int(rng, 2000))}\ny: [${Array(50).fill("*a").join(", ")}]\n`,
    () => Array.from({ length: int(rng, 3000) }, (_, i) => `k${i % 100 === 99 ? 0 : i}: 1`).join("\n"),
    () => "{{{not yaml: [",
    () => `${"- ".repeat(int(rng, 500))}x\n`,
    () => hostileString(rng),
  ])();
}

const tags = (rng: Rng) => Array.from({ length: int(rng, 4) }, () => ({ name: pick(rng, ["env", "role", "zone", hostileString(rng)]), value: pick(rng, ["prod", "edge", "a", hostileString(rng)]) }));
const tagMap = (rng: Rng) => Object.fromEntries(tags(rng).map((t) => [t.name, t.value]));
const agentId = (rng: Rng) => (chance(rng, 0.95) ? pick(rng, AGENTS) : hostileString(rng));
const reqId = (rng: Rng) => (chance(rng, 0.8) ? `r${int(rng, 1e9)}` : hostileString(rng));
const bytes = (s: string) => Buffer.from(s);
const version = (rng: Rng) => pick(rng, [0, 1, 2, 3, int(rng, 100), -1, 2 ** 40, -(2 ** 40)]);

type Maker = (rng: Rng) => Record<string, unknown>;
const group: Maker = (rng) => ({ agent_group: { group_name: name(rng, GROUPS), description: chance(rng, 0.5) ? "fuzz" : hostileString(rng), tags: tags(rng) } });
const config: Maker = (rng) => ({ config_detail: { config_name: name(rng, CONFIGS), agent_type: pick(rng, ["ilogtail", "", "opamp"]), description: "fuzz", content: content(rng) } });
const groupName: Maker = (rng) => ({ group_name: name(rng, GROUPS) });
const configName: Maker = (rng) => ({ config_name: name(rng, CONFIGS) });
const binding: Maker = (rng) => ({ group_name: name(rng, GROUPS), config_name: name(rng, CONFIGS) });
const userBody: Record<string, Maker> = {
  CreateAgentGroup: group, UpdateAgentGroup: group, DeleteAgentGroup: groupName, GetAgentGroup: groupName, ListAgentGroups: () => ({}),
  CreateConfig: config, UpdateConfig: config, DeleteConfig: configName, GetConfig: configName, ListConfigs: () => ({}),
  ApplyConfigToAgentGroup: binding, RemoveConfigFromAgentGroup: binding, GetAppliedConfigsForAgentGroup: groupName, GetAppliedAgentGroups: configName,
  ListAgents: groupName,
};

const USER_WRITES = /Create|Update|Delete|Apply|Remove/;
const userRoutes: FuzzRoute[] = ROUTES.filter((r) => r.path.startsWith("/User/")).map((r) => {
  const op = r.path.slice("/User/".length);
  const body = userBody[op];
  if (!body) throw new Error(`no request maker for ${r.path}: add it to fuzzRoutes.ts`);
  // The User API also takes a request's string fields from the query string, in either spelling.
  const query = (rng: Rng) => pick(rng, [`config_name=${enc(name(rng, CONFIGS))}`, `configName=${enc(name(rng, CONFIGS))}`, `groupName=${enc(name(rng, GROUPS))}`, `requestId=${enc(hostileString(rng))}`, "configName=a&config_name=b"]);
  return { family: "user", method: r.method, route: r.path, path: (rng) => (chance(rng, 0.15) ? `${r.path}?${query(rng)}` : r.path), write: USER_WRITES.test(op), request: r.req as MessageType, responses: [r.res as MessageType], valid: body };
});

const agent = (route: string, request: MessageType, responses: MessageType[], valid: (rng: Rng) => Record<string, unknown>, query = false): FuzzRoute => ({
  family: "agent", method: "POST", route, write: false, request, responses, valid,
  // v2's long poll is asked in the query string (and any query string sends the request through koa).
  path: (rng) => (query && chance(rng, 0.1) ? `${route}?WaitForChange=true` : chance(rng, 0.05) ? `${route}?x=${int(rng, 9)}` : route),
});

const v1Configs = (rng: Rng) => Array.from({ length: int(rng, 4) }, () => ({ type: int(rng, 3), name: name(rng, CONFIGS), version: version(rng), context: "" }));
const v2Configs = (rng: Rng, pool: readonly string[]) => Array.from({ length: int(rng, 4) }, () => ({ name: name(rng, pool), version: version(rng), status: int(rng, 5), message: chance(rng, 0.2) ? hostileString(rng) : "" }));

const agentRoutes: FuzzRoute[] = [
  agent("/Agent/HeartBeat", pb.HeartBeatRequest as MessageType, [pb.HeartBeatResponse as MessageType, v1.HeartBeatResponse as MessageType], (rng) =>
    chance(rng, 0.5)
      ? { request_id: reqId(rng), agent_id: agentId(rng), agent_type: "ilogtail", agent_version: "1.8.0", ip: `10.0.0.${int(rng, 256)}`, tags: tagMap(rng), running_status: "ok", startup_time: int(rng, 2 ** 31) }
      : v1.HeartBeatRequest.fromObject({ request_id: reqId(rng), agent_id: agentId(rng), agent_type: "iLogtail", attributes: { version: "1.8", ip: "10.1.0.1", hostname: "h" }, tags: tags(rng).map((t) => t.value), interval: int(rng, 60), pipeline_configs: v1Configs(rng) }) as unknown as Record<string, unknown>),
  agent("/Agent/GetConfigList", pb.AgentGetConfigListRequest as MessageType, [pb.AgentGetConfigListResponse as MessageType], (rng) => ({ request_id: reqId(rng), agent_id: agentId(rng), config_versions: Object.fromEntries(CONFIGS.slice(0, int(rng, 4)).map((c) => [c, version(rng)])), ...(chance(rng, 0.3) ? { tags: tagMap(rng) } : {}) })),
  agent("/Agent/RunningStatistics", pb.RunningStatisticsRequest as MessageType, [pb.RunningStatisticsResponse as MessageType], (rng) => ({ request_id: reqId(rng), agent_id: agentId(rng), ...(chance(rng, 0.9) ? { running_details: { cpu: rng() * 4, memory: int(rng, 2 ** 31), extras: tagMap(rng) } } : {}) })),
  agent("/Agent/Alarm", pb.AlarmRequest as MessageType, [pb.AlarmResponse as MessageType], (rng) => ({ request_id: reqId(rng), agent_id: agentId(rng), type: pick(rng, ["CONFIG_ALARM", hostileString(rng)]), detail: chance(rng, 0.9) ? "detail" : "d".repeat(int(rng, 30_000)) })),
  agent("/Agent/FetchPipelineConfig", v2.FetchConfigRequest as MessageType, [v2.FetchConfigResponse as MessageType, v1.FetchPipelineConfigResponse as MessageType], (rng) =>
    chance(rng, 0.5)
      ? { request_id: bytes(reqId(rng)), instance_id: bytes(agentId(rng)), continuous_pipeline_configs: v2Configs(rng, CONFIGS) }
      : v1.FetchPipelineConfigRequest.fromObject({ request_id: reqId(rng), agent_id: agentId(rng), req_configs: v1Configs(rng) }) as unknown as Record<string, unknown>),
  agent("/Agent/FetchAgentConfig", v1.FetchAgentConfigRequest as MessageType, [v1.FetchAgentConfigResponse as MessageType], (rng) => ({ request_id: reqId(rng), agent_id: agentId(rng), attributes: { version: "1", ip: "10.2.0.1" }, req_configs: v1Configs(rng) })),
  agent("/Agent/Heartbeat", v2.HeartbeatRequest as MessageType, [v2.HeartbeatResponse as MessageType], (rng) => ({
    request_id: bytes(reqId(rng)), sequence_num: int(rng, 20), capabilities: pick(rng, [0, 1, 3, 7, 2 ** 40]), instance_id: bytes(agentId(rng)), agent_type: "LoongCollector",
    attributes: { version: bytes("3.0"), ip: bytes(`10.3.0.${int(rng, 256)}`), hostname: bytes(pick(rng, ["web-1", "node-2", hostileString(rng)])), extras: { osDetail: bytes("linux") } },
    tags: tags(rng), running_status: "running", startup_time: int(rng, 2 ** 31), continuous_pipeline_configs: v2Configs(rng, CONFIGS), instance_configs: v2Configs(rng, INSTANCES), flags: int(rng, 4),
  }), true),
  agent("/Agent/FetchInstanceConfig", v2.FetchConfigRequest as MessageType, [v2.FetchConfigResponse as MessageType], (rng) => ({ request_id: bytes(reqId(rng)), instance_id: bytes(agentId(rng)), instance_configs: v2Configs(rng, INSTANCES) })),
  agent("/Agent/ReportStatus", v2.ReportStatusRequest as MessageType, [v2.ReportStatusResponse as MessageType], (rng) => ({ request_id: bytes(reqId(rng)), instance_id: bytes(agentId(rng)), continuous_pipeline_configs: v2Configs(rng, CONFIGS), instance_configs: v2Configs(rng, INSTANCES) })),
  agent("/v1/opamp", op.AgentToServer as MessageType, [op.ServerToAgent as MessageType], (rng) => ({
    instance_uid: chance(rng, 0.9) ? Buffer.from(`fz-opamp-uid-${int(rng, 9)}`.padEnd(16, "0").slice(0, 16)) : randomBytes(rng, int(rng, 40)),
    sequence_num: int(rng, 10), capabilities: int(rng, 2 ** 16),
    agent_description: { identifying_attributes: [{ key: "service.name", value: { string_value: pick(rng, ["checkout", hostileString(rng)]) } }], non_identifying_attributes: [{ key: "host.name", value: { string_value: "h" } }] },
    ...(chance(rng, 0.5) ? { health: { healthy: chance(rng, 0.5), status: "ok", last_error: "", component_health_map: { c: { healthy: true } } } } : {}),
    ...(chance(rng, 0.3) ? { effective_config: { config_map: { config_map: { "": { body: Buffer.from("receivers: {}\n"), content_type: "text/yaml" } } } } } : {}),
    ...(chance(rng, 0.3) ? { remote_config_status: { last_remote_config_hash: randomBytes(rng, 8), status: int(rng, 4), error_message: "" } } : {}),
  })),
];

const json = (method: string, route: string, path: (rng: Rng) => string, valid: (rng: Rng) => unknown = () => undefined, write = false): FuzzRoute => ({ family: "json", method, route, path, valid, write });
const kinds = [["configs", CONFIGS], ["instance-configs", INSTANCES]] as const;
const agentsQuery = (rng: Rng) => pick(rng, ["", "?limit=2", `?q=${enc(hostileString(rng))}`, "?tag=env=prod", "?protocol=v2&failed=true", "?late=maybe", "?limit=0", "?limit=99999999999999999999", `?after=${agentId(rng)}`, "?config=nginx-access&configState=applied", "?group=web&version=1.8.0", "?unknown=1", "?limit=1&limit=2"]);

const jsonRoutes: FuzzRoute[] = [
  json("GET", "/api/v1/agents", (rng) => `/api/v1/agents${agentsQuery(rng)}`),
  json("GET", "/api/v1/agents/:id", (rng) => `/api/v1/agents/${enc(agentId(rng))}`),
  ...kinds.flatMap(([kind, pool]) => [
    json("GET", `/api/v1/${kind}`, () => `/api/v1/${kind}`),
    json("GET", `/api/v1/${kind}/:name`, (rng) => `/api/v1/${kind}/${seg(rng, pool)}`),
    json("GET", `/api/v1/${kind}/:name/history`, (rng) => `/api/v1/${kind}/${seg(rng, pool)}/history`),
    json("GET", `/api/v1/${kind}/:name/versions/:version`, (rng) => `/api/v1/${kind}/${seg(rng, pool)}/versions/${pick(rng, [String(version(rng)), "x", "1.5", "1e3", "0x10", ""])}`),
    json("GET", `/api/v1/${kind}/:name/rollout`, (rng) => `/api/v1/${kind}/${seg(rng, pool)}/rollout`),
    json("GET", `/api/v1/${kind}/:name/diff`, (rng) => `/api/v1/${kind}/${seg(rng, pool)}/diff${pick(rng, ["", "?to=1", `?to=${version(rng)}&from=${version(rng)}`, "?from=abc", "?to=1&to=2"])}`),
  ]),
  json("POST", "/api/v1/configs/:name/rollback", (rng) => `/api/v1/configs/${seg(rng, CONFIGS)}/rollback`, (rng) => (chance(rng, 0.9) ? { version: version(rng) } : { version: "1", extra: true }), true),
  json("GET", "/api/v1/fleet", () => "/api/v1/fleet"),
  json("GET", "/api/v1/groups", () => "/api/v1/groups"),
  json("GET", "/api/v1/groups/:name", (rng) => `/api/v1/groups/${seg(rng, GROUPS)}`),
  json("PUT", "/api/v1/groups/:name", (rng) => `/api/v1/groups/${seg(rng, GROUPS)}`, (rng) => ({
    description: chance(rng, 0.9) ? "fuzz" : 7, tags: tags(rng), configs: CONFIGS.filter(() => chance(rng, 0.3)), ...(chance(rng, 0.3) ? { instanceConfigs: INSTANCES.filter(() => chance(rng, 0.5)) } : {}),
  }), true),
  json("GET", "/api/v1/files/:dir/:file", (rng) => `/api/v1/files/${pick(rng, ["configs", "agent_groups", "instance_configs", "..", ".git", "x"])}/${enc(pick(rng, [`${name(rng, CONFIGS)}.yaml`, `${name(rng, GROUPS)}.yaml`, "HEAD", "..%2f..%2fetc%2fpasswd"]))}`),
  json("POST", "/api/v1/validate", () => "/api/v1/validate", (rng) => ({
    kind: pick(rng, ["config", "group", "other"]),
    text: pick(rng, [`config_name: fz-a\nagent_type: ilogtail\ndescription: ""\ncontent: ${JSON.stringify(content(rng))}\n`, `group_name: fz-g1\ndescription: ""\ntags: []\nconfigs: [${pick(rng, CONFIGS)}]\n`, content(rng)]),
    ...(chance(rng, 0.5) ? { name: name(rng, [...CONFIGS, ...GROUPS]) } : {}),
  })),
  json("GET", "/api/v1/commits/:commit", (rng) => `/api/v1/commits/${pick(rng, ["HEAD", "0000", "abcdef", "a".repeat(40), "a".repeat(65), "--help", "HEAD~1", randomBytes(rng, 8).toString("hex")])}`),
  json("GET", "/api/v1/whoami", () => "/api/v1/whoami"),
  json("GET", "/api/v1/changes", (rng) => `/api/v1/changes${pick(rng, ["", "?limit=5", "?limit=-1", "?limit=abc"])}`),
  // Rollouts (src/http/rolloutsApi.ts; a branch without them answers 404 like any unknown path). An action may commit a revert.
  json("GET", "/api/v1/rollouts", () => "/api/v1/rollouts"),
  json("GET", "/api/v1/rollouts/:name", (rng) => `/api/v1/rollouts/${seg(rng, [...CONFIGS, ...INSTANCES])}${pick(rng, ["", "?kind=pipeline", "?kind=instance", "?kind=x", "?kind=a&kind=b"])}`),
  json("POST", "/api/v1/rollouts/:name/:action", (rng) => `/api/v1/rollouts/${seg(rng, CONFIGS)}/${pick(rng, ["pause", "resume", "promote", "abort", "revert", "x", "%2e%2e"])}`, () => ({}), true),
  json("GET", "/status", () => "/status"),
  json("GET", "/healthz", () => "/healthz"),
  json("GET", "/readyz", () => "/readyz"),
  json("POST", "/hooks/git", () => "/hooks/git", () => ({ ref: "refs/heads/main" })),
];

const assets = readdirSync(fileURLToPath(new URL("../../web/dist/assets/", import.meta.url)));
const otherRoutes: FuzzRoute[] = [
  { family: "metrics", method: "GET", route: "/metrics", path: () => "/metrics", write: false, valid: () => undefined },
  { family: "landing", method: "GET", route: "/", path: () => "/", write: false, valid: () => undefined },
  { family: "console", method: "GET", route: "/ui/*", path: (rng) => pick(rng, ["/ui", "/ui/", "/ui/index.html", "/ui/configs/nginx-access", "/ui/assets/nope.js", "/ui/../status", "/ui/%2e%2e/%2e%2e/etc/passwd", ...assets.map((a) => `/ui/assets/${a}`)]), write: false, valid: () => undefined },
];

export const FUZZ_ROUTES: readonly FuzzRoute[] = [...userRoutes, ...agentRoutes, ...jsonRoutes, ...otherRoutes];
