import test from "ava";
import { configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { git } from "./helpers/git.ts";
import { withServer } from "./helpers/server.ts";

test("read-only mode: every write route answers 403 Forbidden naming pull requests; reads work", async (t) => {
  const repo = repoWith("cs-ro-", { "configs/c1.yaml": configYaml("c1", "v1"), "agent_groups/g1.yaml": groupYaml("g1", ["c1"], [["env", "prod"]]) });
  const head = git(repo, "rev-parse", "HEAD").trim();
  const s = await withServer(t, { repo, readOnly: true });
  const writes = [
    () => s.api.createGroup({ agent_group: { group_name: "g2" } }),
    () => s.api.updateGroup({ agent_group: { group_name: "g1", description: "x" } }),
    () => s.api.deleteGroup({ group_name: "g1" }),
    () => s.api.createConfig({ config_detail: { config_name: "c2", content: "x" } }),
    () => s.api.updateConfig({ config_detail: { config_name: "c1", content: "x" } }),
    () => s.api.deleteConfig({ config_name: "c1" }),
    () => s.api.apply({ group_name: "default", config_name: "c1" }),
    () => s.api.remove({ group_name: "g1", config_name: "c1" }),
  ];
  for (const w of writes) {
    const r = await w();
    t.is(r.status, 403);
    t.is(r.body.code, "Forbidden");
    t.regex(r.body.message, /read-only.*pull request/);
  }
  t.is(git(repo, "rev-parse", "HEAD").trim(), head);
  const reads = [
    () => s.api.getGroup({ group_name: "g1" }),
    () => s.api.listGroups(),
    () => s.api.getConfig({ config_name: "c1" }),
    () => s.api.listConfigs(),
    () => s.api.appliedConfigs({ group_name: "g1" }),
    () => s.api.appliedGroups({ config_name: "c1" }),
    () => s.api.listAgents({ group_name: "default" }),
    () => s.api.heartbeat({ agent_id: "a1" }),
    () => s.api.configList({ agent_id: "a1" }),
  ];
  for (const r of reads) {
    const res = await r();
    t.is(res.status, 200);
    t.is(res.body.code, "Accept");
  }
});
