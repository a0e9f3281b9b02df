// Alpha, v1 and v2 agents against one server, at one address, from one snapshot; and bad input on
// the paths two protocols share (/Agent/HeartBeat: alpha and v1; /Agent/FetchPipelineConfig: v1
// and v2), decided by src/protocols/detect.ts.
import test from "ava";
import { num, pb, send } from "./helpers/client.ts";
import { configYaml as config, groupYaml, repoWith } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { NEW, v1, V1Agent } from "./helpers/v1Agent.ts";
import { v2, V2Agent } from "./helpers/v2Agent.ts";
import { agentCount, remembered } from "./helpers/observe.ts";


function repo(): string {
  const dir = repoWith("cs-shared-", {
    "configs/nginx.yaml": config("nginx", "inputs:\n  - Type: input_file\n    FilePaths: [/var/log/nginx/*.log]\n"),
    "configs/java.yaml": config("java", "inputs:\n  - Type: input_file\n    FilePaths: [/app/*.log]\n"),
    "agent_groups/web.yaml": groupYaml("web", ["java", "nginx"], [["env", "prod"]]),
  });
  return dir;
}

for (const details of ["heartbeat", "fetch"] as const) {
  test(`alpha, v1 and v2 agents at once, each answered in its own protocol (v2 details in the ${details})`, async (t) => {
    const s = await withServer(t, { repo: repo(), v2ConfigDetails: details });
    const legacy = new V1Agent(s.url, "agent-v1", { env: "prod" });
    const loong = new V2Agent(s.url, "agent-v2", { env: "prod" });
    t.teardown(() => (legacy.cleanup(), loong.cleanup()));
    const alpha = async () => {
      const hb = await s.api.heartbeat({ request_id: "a-hb", agent_id: "agent-alpha", agent_version: "1.1.1", ip: "10.0.0.3", tags: { env: "prod" } });
      const list = await s.api.configList({ request_id: "a-cl", agent_id: "agent-alpha", config_versions: {} });
      return { hb: hb.body, list: list.body };
    };
    // All at once, twice: the second round is every agent's "nothing changed".
    for (let round = 0; round < 2; round++) {
      const [a, one, two] = await Promise.all([alpha(), legacy.cycle(), loong.cycle()]);
      t.like(a.hb, { response_id: "a-hb", code: "Accept", message: "Send heartbeat success" });
      t.is(a.list.response_id, "a-cl");
      const versions = Object.fromEntries(a.list.config_update_infos.map((u) => [u.config_name, num(u.config_version as never)]));
      t.deepEqual(Object.keys(versions), ["java", "nginx"]);
      t.is(one.status, 200);
      t.is(two.status, 200);
      if (round === 0) {
        t.deepEqual(one.results.map((r) => [r.name, r.status, r.newVersion]), [["java", NEW, versions.java], ["nginx", NEW, versions.nginx]]);
        t.deepEqual(two.pipelineUpdates, [{ name: "java", version: versions.java }, { name: "nginx", version: versions.nginx }]);
        t.is(two.fetched, details === "fetch");
      } else {
        t.deepEqual([one.results, two.pipelineUpdates], [[], []]);
      }
    }
    t.deepEqual(Object.keys(legacy.files()), ["java", "nginx"]);
    t.deepEqual(loong.files().pipelines, ["java", "nginx"]);

    const listed = (await s.api.listAgents({ group_name: "web" })).body.agents.map((a) => a.agent_id);
    t.deepEqual(listed, ["agent-alpha", "agent-v1", "agent-v2"]);
    const api = JSON.parse((await send(s.url, "GET", "/api/v1/agents", "")).body.toString()) as { agents: { agentId: string; protocol: string }[] };
    t.deepEqual(api.agents.map((a) => [a.agentId, a.protocol]), [["agent-alpha", "alpha"], ["agent-v1", "v1"], ["agent-v2", "v2"]]);
    const status = JSON.parse((await send(s.url, "GET", "/status", "")).body.toString()) as { agentsByProtocol: Record<string, number> };
    t.deepEqual(status.agentsByProtocol, { alpha: 1, v1: 1, v2: 1 });
  });
}

/** Deterministic noise (xorshift32), so a failure can be replayed. */
function noise(seed: number, length: number): Buffer {
  let x = seed;
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

test("bad input on each shared path is a 400 with a message saying why; the server keeps serving", async (t) => {
  const s = await withServer(t, { repo: repo() });
  const legacy = new V1Agent(s.url, "survivor-v1", { env: "prod" });
  const loong = new V2Agent(s.url, "survivor-v2", { env: "prod" });
  t.teardown(() => (legacy.cleanup(), loong.cleanup()));
  // Refusals on a shared path are in the message type of its first route: alpha on /Agent/HeartBeat,
  // v2 on /Agent/FetchPipelineConfig.
  const heartBeat = async (body: Uint8Array) => {
    const r = await send(s.url, "POST", "/Agent/HeartBeat", body, { "content-type": "application/x-protobuf" });
    return { status: r.status, ...pb.HeartBeatResponse.toObject(pb.HeartBeatResponse.decode(r.body)) } as { status: number; code?: string; message?: string };
  };
  const fetchPipeline = async (body: Uint8Array) => {
    const r = await send(s.url, "POST", "/Agent/FetchPipelineConfig", body, { "content-type": "application/x-protobuf" });
    const m = v2.FetchConfigResponse.decode(r.body);
    return { status: r.status, code: m.common_response?.status, message: Buffer.from(m.common_response?.errorMessage ?? []).toString() };
  };

  for (let seed = 1; seed <= 12; seed++) {
    const bytes = noise(seed * 2654435761, 48 + seed);
    const hb = await heartBeat(bytes);
    t.like(hb, { status: 400, code: "BadRequest" }, `heartbeat noise ${seed}`);
    t.regex(hb.message ?? "", /HeartBeatRequest/, `heartbeat noise ${seed}`);
    const fp = await fetchPipeline(bytes);
    t.like(fp, { status: 400, code: 400 }, `fetch noise ${seed}`);
    t.regex(fp.message, /FetchPipelineConfigRequest|FetchConfigRequest/, `fetch noise ${seed}`);
  }

  // Truncated: a real Legacy heartbeat and fetch, cut short.
  const beat = v1.HeartBeatRequest.encode(legacy.heartbeatRequest("aGVhcnRiZWF0MTcz")).finish();
  const cut = await heartBeat(beat.subarray(0, beat.length - 4));
  t.like(cut, { status: 400, code: "BadRequest" });
  t.regex(cut.message ?? "", /not a valid protobuf HeartBeatRequest: field .* runs past the end/);
  const ask = v1.FetchPipelineConfigRequest.encode({ request_id: "f", agent_id: "x", req_configs: [{ name: "nginx", version: 3 as never }] }).finish();
  t.regex((await fetchPipeline(ask.subarray(0, ask.length - 2))).message, /runs past the end/);

  // A v2 body where it does not belong: the v2 heartbeat on alpha/v1's path, a v2 fetch on v1's FetchAgentConfig.
  const wrongHb = await heartBeat(v2.HeartbeatRequest.encode(loong.heartbeatRequest()).finish());
  t.like(wrongHb, { status: 400, code: "BadRequest" });
  t.regex(wrongHb.message ?? "", /neither an alpha nor a v1 HeartBeatRequest: .*v2 agents send it to \/Agent\/Heartbeat/);
  const v2Fetch = v2.FetchConfigRequest.encode({ request_id: Buffer.from("r"), instance_id: Buffer.from("survivor-v2"), instance_configs: [{ name: "loong", version: 2 as never }] }).finish();
  const onAgentConfig = await send(s.url, "POST", "/Agent/FetchAgentConfig", v2Fetch, { "content-type": "application/x-protobuf" });
  t.is(onAgentConfig.status, 400);
  t.like(v1.FetchAgentConfigResponse.decode(onAgentConfig.body), { code: v1.RespCode.INVALID_PARAMETER });
  t.regex(v1.FetchAgentConfigResponse.decode(onAgentConfig.body).message, /req_configs\[0\] has none \(a v2 FetchConfigRequest\? .*\/Agent\/FetchInstanceConfig\)/);
  t.is((await send(s.url, "POST", "/Agent/FetchAgentConfig", noise(7, 40))).status, 400);

  // Both protocols at once.
  const mixed = await fetchPipeline(Uint8Array.from([0x1a, 0x06, 0x08, 0x00, 0x12, 0x02, 0x61, 0x62, 0x22, 0x00]));
  t.like(mixed, { status: 400, code: 400 });
  t.regex(mixed.message, /mixes the v1 FetchPipelineConfigRequest and the v2 FetchConfigRequest/);

  // JSON that is neither.
  const json = await send(s.url, "POST", "/Agent/HeartBeat", JSON.stringify({ agent_id: "j", ip: "1.2.3.4", tags: ["prod"] }), { "content-type": "application/json" });
  t.is(json.status, 400);
  t.regex((JSON.parse(json.body.toString()) as { message: string }).message, /mixes alpha fields/);

  t.deepEqual(await remembered(s.url, ["x", "j", "survivor-v1", "survivor-v2", "survivor-alpha"]), [], "nothing was stored");
  t.is(await agentCount(s.url), 0);
  // Still serving every protocol.
  t.is((await legacy.cycle()).results.length, 2);
  t.is((await loong.cycle()).pipelineUpdates.length, 2);
  t.is((await s.api.heartbeat({ agent_id: "survivor-alpha" })).status, 200);
  await waitFor(async () => (await agentCount(s.url)) === 3);
});
