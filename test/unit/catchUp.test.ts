// A worker's registry learns of agents heard by another worker a little later (RouteOptions.catchUp):
// a request for an agent unknown here waits for catchUp once and is handled again.
import type { IncomingMessage } from "node:http";
import test from "ava";
import { configserver } from "../../src/gen/proto.js";
import { DomainError } from "../../src/domain/errors.ts";
import type { Outcome } from "../../src/http/endpoint.ts";
import { compileRoute } from "../../src/protocols/compileRoute.ts";
import type { RouteOptions } from "../../src/protocols/routeContract.ts";
import { ALPHA_ENVELOPE } from "../../src/protocols/alpha/envelope.ts";

const pb = configserver.proto;
const req = { url: "/Agent/GetConfigList", headers: {} } as IncomingMessage;
const body = Buffer.from(pb.AgentGetConfigListRequest.encode({ request_id: "r1", agent_id: "a1" }).finish());

/** A GetConfigList route whose agent becomes known when `arrive` runs. */
function route(options: Partial<RouteOptions>) {
  const known = new Set<string>();
  let handled = 0;
  const compiled = compileRoute({
    method: "POST", path: "/Agent/GetConfigList", request: pb.AgentGetConfigListRequest, response: pb.AgentGetConfigListResponse, envelope: ALPHA_ENVELOPE,
    handle: (q) => {
      handled++;
      if (!known.has(q.agent_id ?? "")) throw new DomainError("AgentNotExist", `Agent ${q.agent_id} doesn't exist.`);
      return { config_update_infos: [] };
    },
  }, { bodyLimit: 1 << 20, onError: () => {}, ...options });
  return { compiled, arrive: (id: string) => known.add(id), handled: () => handled };
}

const codeOf = (o: Outcome) => pb.AgentGetConfigListResponse.decode(o.body).code;

test("an agent unknown here is handled again once catchUp resolves: answered as known, the id echoed", async (t) => {
  let asked = 0;
  const r = route({
    catchUp: async () => {
      asked++;
      r.arrive("a1");
    },
  });
  const o = await r.compiled.answer(req, body, undefined, undefined);
  t.is(o.status, 200);
  t.is(codeOf(o), "Accept");
  t.is(pb.AgentGetConfigListResponse.decode(o.body).response_id, "r1");
  t.is(asked, 1);
  t.is(r.handled(), 2);
});

test("an agent still unknown after catchUp is AgentNotExist (asked once); without catchUp it is answered at once", async (t) => {
  let asked = 0;
  const r = route({ catchUp: async () => void asked++ });
  const o = await r.compiled.answer(req, body, undefined, undefined);
  t.is(o.status, 404);
  t.is(codeOf(o), "AgentNotExist");
  t.is(asked, 1, "one wait, not a loop");
  const single = route({});
  const now = single.compiled.answer(req, body, undefined, undefined);
  t.false(now instanceof Promise, "a single process answers synchronously");
  t.is((now as Outcome).status, 404);
});
