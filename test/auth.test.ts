import { createHmac } from "node:crypto";
import test from "ava";
import { pb, send } from "./helpers/client.ts";
import { withServer } from "./helpers/server.ts";

const USER = "user-token-123";
const AGENT = "agent-token-456";
const tokens = { userToken: USER, agentToken: AGENT };
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

const halves = [
  { half: "User", path: "/User/ListAgentGroups", method: "GET", req: pb.ListAgentGroupsRequest, res: pb.ListAgentGroupsResponse, body: {}, token: USER, other: AGENT },
  { half: "Agent", path: "/Agent/HeartBeat", method: "POST", req: pb.HeartBeatRequest, res: pb.HeartBeatResponse, body: { agent_id: "a1" }, token: AGENT, other: USER },
] as const;

for (const h of halves) {
  test(`${h.half} API: missing or wrong token → 401 Unauthorized in the route's protobuf message; right one → 200`, async (t) => {
    const s = await withServer(t, tokens);
    const body = h.req.encode(h.body).finish();
    for (const path of [h.path, `${h.path}/`]) {
      for (const [what, headers] of [["missing", {}], ["wrong", bearer("nope")], ["other half's", bearer(h.other)], ["not bearer", { authorization: h.token }]] as const) {
        const r = await send(s.url, h.method, path, body, headers);
        t.is(r.status, 401, `${what} ${path}`);
        t.is(r.headers["content-type"], "application/x-protobuf");
        t.truthy(r.headers["x-log-requestid"]);
        const decoded = h.res.decode(r.body);
        t.is(decoded.code, "Unauthorized", `${what} ${path}`);
        t.regex(decoded.message, /token/);
      }
      const ok = await send(s.url, h.method, path, body, bearer(h.token));
      t.is(ok.status, 200, path);
      t.is(h.res.decode(ok.body).code, "Accept");
    }
    // The router ignores case; so does the check.
    t.is((await send(s.url, h.method, h.path.toLowerCase(), body)).status, 401);
  });
}

test("a JSON request gets a JSON 401 in the route's message shape", async (t) => {
  const s = await withServer(t, tokens);
  const r = await send(s.url, "GET", "/User/ListConfigs", "{}", { "content-type": "application/json" });
  t.is(r.status, 401);
  const json = JSON.parse(r.body.toString()) as Record<string, unknown>;
  t.is(json.code, "Unauthorized");
  t.deepEqual(json.configDetails, []);
  const ok = await send(s.url, "GET", "/User/ListConfigs", "{}", { "content-type": "application/json", ...bearer(USER) });
  t.is(JSON.parse(ok.body.toString()).code, "Accept");
});

test("operator JSON endpoints need the user token too; health, metrics and webhooks need none", async (t) => {
  const secret = "hook-secret";
  const s = await withServer(t, { ...tokens, webhookSecret: secret });
  for (const path of ["/api/v1/agents", "/status"]) {
    t.is((await send(s.url, "GET", path, "")).status, 401, path);
    t.is((await send(s.url, "GET", path, "", bearer(AGENT))).status, 401, path);
    t.is((await send(s.url, "GET", path, "", bearer(USER))).status, 200, path);
  }
  for (const path of ["/healthz", "/readyz", "/metrics"]) t.is((await send(s.url, "GET", path, "")).status, 200, path);
  const payload = JSON.stringify({ ref: "refs/heads/main" });
  const sig = `sha256=${createHmac("sha256", secret).update(payload).digest("hex")}`;
  const hook = await send(s.url, "POST", "/hooks/git", payload, { "content-type": "application/json", "x-hub-signature-256": sig });
  t.is(hook.status, 202);
});

test("without tokens nothing is required", async (t) => {
  const s = await withServer(t);
  t.is((await s.api.listGroups()).status, 200);
  t.is((await s.api.heartbeat({ agent_id: "a1" })).status, 200);
});
