import test from "ava";
import { git } from "./helpers/git.ts";
import { withServer } from "./helpers/server.ts";

test("a config written through the API is one commit and reaches an applied agent", async (t) => {
  const s = await withServer(t);
  t.is((await s.api.createConfig({ request_id: "r1", config_detail: { config_name: "c1", content: "a: 1\n" } })).body.code, "Accept");
  t.is((await s.api.apply({ group_name: "default", config_name: "c1" })).body.code, "Accept");
  t.is((await s.api.heartbeat({ agent_id: "a1" })).body.code, "Accept");
  const list = await s.api.configList({ request_id: "x", agent_id: "a1" });
  t.is(list.body.response_id, "x");
  t.is(list.body.config_update_infos.length, 1);
  t.is(list.body.config_update_infos[0]?.content, "a: 1\n");
  t.is(git(s.repo, "rev-list", "--count", "HEAD").trim(), "2");
  t.is(git(s.repo, "status", "--porcelain"), "");
});
