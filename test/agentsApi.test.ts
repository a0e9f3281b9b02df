// GET /api/v1/agents: filtered and paged server-side; ListAgents of a large fleet in slices.
import test from "ava";
import { send } from "./helpers/client.ts";
import { repoWith } from "./helpers/repo.ts";
import { withServer } from "./helpers/server.ts";
import { V2Agent } from "./helpers/v2Agent.ts";
import { heartbeatAll } from "./helpers/observe.ts";

const config = (name: string, content: string) => `config_name: ${name}\nagent_type: ""\ndescription: ""\ncontent: ${JSON.stringify(content)}\n`;

function repo(): string {
  const dir = repoWith("cs-agentsapi-", {
    "configs/nginx.yaml": config("nginx", "inputs: []\n"),
    "agent_groups/web.yaml": 'group_name: web\ndescription: ""\ntags: [{name: env, value: prod}]\nconfigs: [nginx]\n',
  });
  return dir;
}

type Page = { agents: { agentId: string; protocol: string }[]; total: number; next: string | null };
const get = async (url: string, query: string) => {
  const r = await send(url, "GET", `/api/v1/agents${query}`, "");
  return { status: r.status, body: JSON.parse(r.body.toString()) as Page & { code?: string; message?: string } };
};

test("the agents listing filters by text, tag, group, protocol, version, failure and config state, and pages with next", async (t) => {
  const s = await withServer(t, { repo: repo() });
  for (let i = 0; i < 12; i++) {
    await s.api.heartbeat({ agent_id: `alpha-${String(i).padStart(2, "0")}`, agent_version: i % 2 ? "1.8" : "2.0", ip: `10.1.0.${i}`, tags: { env: i < 6 ? "prod" : "dev" } });
  }
  const v2s = [0, 1, 2].map((i) => new V2Agent(s.url, `v2-${i}`, { env: "prod" }));
  t.teardown(() => v2s.forEach((a) => a.cleanup()));
  for (const a of v2s) await a.cycle();
  for (const a of v2s) {
    a.load(() => (a.instanceId === "v2-2" ? "bad flusher" : undefined));
    await a.cycle();
  }

  const all = await get(s.url, "");
  t.is(all.status, 200);
  t.is(all.body.total, 15);
  t.is(all.body.next, null);
  t.deepEqual(all.body.agents.map((a) => a.agentId), [...Array.from({ length: 12 }, (_, i) => `alpha-${String(i).padStart(2, "0")}`), "v2-0", "v2-1", "v2-2"]);

  // Pages of 4 chain through every agent exactly once.
  const seen: string[] = [];
  let after = "";
  for (let pages = 0; pages < 10; pages++) {
    const p = await get(s.url, `?limit=4${after ? `&after=${after}` : ""}`);
    t.is(p.body.total, 15);
    seen.push(...p.body.agents.map((a) => a.agentId));
    if (p.body.next === null) break;
    after = p.body.next;
  }
  t.deepEqual(seen, all.body.agents.map((a) => a.agentId));

  const ids = async (q: string) => (await get(s.url, q)).body.agents.map((a) => a.agentId);
  t.deepEqual(await ids("?protocol=v2"), ["v2-0", "v2-1", "v2-2"]);
  t.deepEqual(await ids("?tag=env=dev&version=1.8"), ["alpha-07", "alpha-09", "alpha-11"]);
  t.deepEqual((await ids("?group=web")).length, 9);
  t.deepEqual(await ids("?q=10.1.0.1"), ["alpha-01", "alpha-10", "alpha-11"]);
  t.deepEqual(await ids("?q=V2-1"), ["v2-1"]);
  t.deepEqual(await ids("?failed=true"), ["v2-2"]);
  t.deepEqual(await ids("?config=nginx&configState=failed"), ["v2-2"]);
  t.deepEqual(await ids("?config=nginx&configState=applied&protocol=v2"), ["v2-0", "v2-1"]);
  t.deepEqual((await ids("?config=nginx&configState=notReported")).length, 6, "alpha agents in web never polled");
  t.deepEqual(await ids("?late=true"), []);

  for (const [q, code] of [["?limit=0", "InvalidParameter"], ["?protocol=v3", "InvalidParameter"], ["?tag=env", "InvalidParameter"], ["?nope=1", "InvalidParameter"], ["?configState=failed", "InvalidParameter"], ["?group=ghost", "AgentGroupNotExist"], ["?config=ghost&configState=failed", "ConfigNotExist"]] as const) {
    const r = await get(s.url, q);
    t.true(r.status === 400 || r.status === 404, q);
    t.is(r.body.code, code, q);
  }
});

test("ListAgents of a large fleet is encoded in slices and equals the whole list", async (t) => {
  const s = await withServer(t, { repo: repo() });
  await heartbeatAll(s.api, Array.from({ length: 4500 }, (_, i) => ({ agent_id: `a${String(i).padStart(5, "0")}`, agent_type: "ilogtail", agent_version: "1", tags: { env: i % 3 === 0 ? "prod" : "dev" } })));
  const r = await s.api.listAgents({ group_name: "default" });
  t.is(r.status, 200);
  t.is(r.body.code, "Accept");
  t.is(r.body.agents.length, 4500);
  t.deepEqual(r.body.agents.map((a) => a.agent_id), Array.from({ length: 4500 }, (_, i) => `a${String(i).padStart(5, "0")}`));
  const web = await s.api.listAgents({ group_name: "web" });
  t.is(web.body.agents.length, 1500);
  t.true(web.body.agents.every((a) => a.tags?.env === "prod"));
  const json = await send(s.url, "POST", "/User/ListAgents", JSON.stringify({ group_name: "web" }), { "content-type": "application/json" });
  t.is((JSON.parse(json.body.toString()) as { agents: unknown[] }).agents.length, 1500);
});
