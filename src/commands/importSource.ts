import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { ImportedGroup, ImportSource } from "../domain/importPlan.ts";
import { CliError } from "./cliError.ts";
import type { ConfigSpec } from "../domain/types.ts";
import { configserver } from "../gen/proto.js";
import { FieldReader, WireType } from "../protocols/wire.ts";

export type SourceProtocol = "alpha" | "v1";

export interface SourceOptions {
  readonly url: string;
  readonly protocol: SourceProtocol;
  /** Bearer token for the source's User API. */
  readonly token?: string | undefined;
  readonly timeoutMs?: number;
  /** One line per step, for the terminal. */
  readonly progress?: (line: string) => void;
}

export interface ReadSource extends ImportSource {
  /** What was read but cannot be imported, or not all of it, said in words. */
  readonly notes: readonly string[];
  /** Each config's version on the source, when its protocol shows one (v1). */
  readonly versions: ReadonlyMap<string, number>;
}

interface Codec<T> {
  encode(m: object): { finish(): Uint8Array };
  decode(b: Uint8Array): T;
}
interface Answer {
  readonly response_id?: string | null;
  readonly code?: string | number | null;
  readonly message?: string | null;
}

const alpha = configserver.proto;
const v1user = configserver.proto.v1user;
const { PIPELINE_CONFIG, AGENT_CONFIG } = configserver.proto.v1.ConfigType;
const other = (p: SourceProtocol): SourceProtocol => (p === "alpha" ? "v1" : "alpha");
const int64 = (v: unknown) => (v == null ? 0 : typeof v === "object" ? (v as { toNumber(): number }).toNumber() : Number(v));

/**
 * The User API of a running ConfigServer. Any failure to read it is a CliError (exit 2: the import
 * could not run). Alpha servers (the reference Go server, or this one)
 * serve reads as GET with a protobuf body and answer `code` as a string; the community v1 server
 * serves them as POST and answers `code` as a RespCode (a varint, absent on success).
 */
class UserApi {
  private seq = 0;
  constructor(private readonly o: SourceOptions) {}

  private send(method: string, path: string, body: Uint8Array): Promise<{ status: number; body: Buffer }> {
    const url = new URL(path.slice(1), this.o.url.endsWith("/") ? this.o.url : `${this.o.url}/`);
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    const headers: Record<string, string> = { "content-type": "application/x-protobuf", "content-length": String(body.length) };
    if (this.o.token) headers.authorization = `Bearer ${this.o.token}`;
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, timeout: this.o.timeoutMs ?? 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`no answer within ${(this.o.timeoutMs ?? 30_000) / 1000} s`)));
      req.on("error", (e) => reject(new CliError(`${method} ${url.href} failed: ${e.message}`)));
      req.end(body);
    });
  }

  /** One call; anything but a success is an error that says what the source answered. */
  async call<Res extends Answer>(path: string, req: Codec<unknown>, res: Codec<Res>, message: object = {}): Promise<Res> {
    const { protocol } = this.o;
    const method = protocol === "alpha" ? "GET" : "POST";
    const where = `${method} ${this.o.url.replace(/\/+$/, "")}${path}`;
    const r = await this.send(method, path, req.encode({ request_id: `import-${++this.seq}`, ...message }).finish());
    // The two protocols' answers differ on the wire in field 2: alpha's code is a string, v1's a varint.
    let codeWire = -1;
    const fields = new FieldReader().reset(r.body, 0, r.body.length);
    while (fields.next()) if (fields.field === 2) codeWire = fields.wireType;
    const malformed = fields.problem;
    if (r.status === 401 || r.status === 403) throw new CliError(`${where} answered ${r.status}: the source's User API needs a token (--token)`);
    if (malformed !== undefined) {
      const hint = r.status === 404 || r.status === 405 ? ` (alpha servers serve reads as GET, the community v1 server as POST: is --protocol ${protocol} right?)` : "";
      throw new CliError(`${where} answered ${r.status} with a body that is not a protobuf message${hint}: ${JSON.stringify(r.body.subarray(0, 80).toString("utf8"))}`);
    }
    const looksAlpha = codeWire === WireType.LEN;
    const looksV1 = codeWire === -1 || codeWire === WireType.VARINT;
    if ((protocol === "v1" && looksAlpha) || (protocol === "alpha" && looksV1 && r.status === 200)) {
      throw new CliError(`${where} answered in the ${other(protocol)} protocol (its code is ${looksAlpha ? "a string" : "a number"}): run again with --protocol ${other(protocol)}`);
    }
    const answer = res.decode(r.body);
    const ok = protocol === "alpha" ? answer.code === "Accept" : (answer.code ?? 0) === 0;
    if (r.status !== 200 || !ok) throw new CliError(`${where} answered ${r.status} ${String(answer.code ?? "")}: ${answer.message || "no message"}`);
    return answer;
  }
}

/** Every agent group (with the configs applied to it) and every config of the source. */
export async function readSource(o: SourceOptions): Promise<ReadSource> {
  const api = new UserApi(o);
  const say = o.progress ?? (() => {});
  const notes: string[] = [];
  const versions = new Map<string, number>();
  let configs: ConfigSpec[];
  // v1 agent configs are not imported (the User API write path has no instance configs): nor are their bindings.
  const skip = new Set<string>();
  const p = o.protocol === "alpha" ? alpha : v1user;
  say(`Reading agent groups from ${o.url} (${o.protocol} User API)…`);
  const groupsAnswer = await api.call("/User/ListAgentGroups", p.ListAgentGroupsRequest, p.ListAgentGroupsResponse as Codec<configserver.proto.v1user.ListAgentGroupsResponse>);
  const groupList = groupsAnswer.agent_groups.map((g) => ({ name: g.group_name ?? "", description: g.description ?? "", tags: (g.tags ?? []).map((t) => ({ name: t.name ?? "", value: t.value ?? "" })) }));
  say(`  ${groupList.length} agent groups`);
  say("Reading configs…");
  if (o.protocol === "alpha") {
    const answer = await api.call("/User/ListConfigs", alpha.ListConfigsRequest, alpha.ListConfigsResponse);
    configs = answer.config_details.map((c) => ({ name: c.config_name ?? "", agentType: c.agent_type ?? "", description: c.description ?? "", content: c.content ?? "" }));
  } else {
    const answer = await api.call("/User/ListConfigs", v1user.ListConfigsRequest, v1user.ListConfigsResponse);
    configs = [];
    const agentConfigs: string[] = [];
    const withContext: string[] = [];
    for (const c of answer.config_details) {
      const name = c.name ?? "";
      if ((c.type ?? PIPELINE_CONFIG) === AGENT_CONFIG) {
        agentConfigs.push(name);
        skip.add(name);
        continue;
      }
      if (c.context) withContext.push(name);
      versions.set(name, int64(c.version));
      configs.push({ name, agentType: "", description: "", content: c.detail ?? "" });
    }
    if (agentConfigs.length > 0) {
      notes.push(`${agentConfigs.length} agent config(s) (type AGENT_CONFIG) not imported, nor their bindings: ${agentConfigs.join(", ")}. Put each in instance_configs/<name>.yaml and bind it with instance_configs: [name] in the group's file.`);
    }
    if (withContext.length > 0) notes.push(`The context of ${withContext.length} config(s) was not kept (the repository has no such field): ${withContext.join(", ")}.`);
  }
  say(`  ${configs.length} configs`);
  const groups: ImportedGroup[] = [];
  let i = 0;
  for (const g of groupList) {
    i++;
    say(`Reading the configs applied to agent group ${g.name} (${i}/${groupList.length})…`);
    const applied = o.protocol === "alpha"
      ? (await api.call("/User/GetAppliedConfigsForAgentGroup", alpha.GetAppliedConfigsForAgentGroupRequest, alpha.GetAppliedConfigsForAgentGroupResponse, { group_name: g.name })).config_names
      : (await api.call("/User/GetAppliedConfigsForAgentGroup", v1user.GetAppliedConfigsForAgentGroupRequest, v1user.GetAppliedConfigsForAgentGroupResponse, { group_name: g.name })).config_names;
    groups.push({ name: g.name, description: g.description, tags: g.tags, configs: applied.filter((n) => !skip.has(n)) });
  }
  const label = `the ${o.protocol} ConfigServer at ${o.url}`;
  return { label, configs, groups, notes, versions };
}
