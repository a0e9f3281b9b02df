// GET /api/v1/configs and /api/v1/instance-configs: the served commit's configs as JSON.
import test from "ava";
import { git } from "./helpers/git.ts";
import { commitFiles, repoWith } from "./helpers/repo.ts";
import { withServer } from "./helpers/server.ts";
import { waitForCommit } from "./helpers/observe.ts";

const config = (name: string, content: string, description = "") => `config_name: ${name}\nagent_type: LoongCollector\ndescription: ${JSON.stringify(description)}\ncontent: ${JSON.stringify(content)}\n`;
const instance = (name: string, content: string) => `config_name: ${name}\ndescription: "process settings"\ncontent: ${JSON.stringify(content)}\n`;

function repo(): { dir: string; head: string } {
  const dir = repoWith("cs-configs-api-", { "configs/nginx.yaml": config("nginx", "inputs:\n  - Type: input_file\n", "nginx access log") }, "first");
  const head = commitFiles(dir, {
    "configs/plain.yaml": config("plain", "only text"),
    "configs/unused.yaml": config("unused", "{\"a\": 1}"),
    "instance_configs/limits.yaml": instance("limits", "cpu_usage_limit: 0.4\n"),
    "instance_configs/raw.yaml": instance("raw", "- a list\n"),
    "agent_groups/web.yaml": 'group_name: web\ntags: [{name: role, value: web}]\nconfigs: [nginx, plain]\ninstance_configs: [limits]\n',
    "agent_groups/default.yaml": "group_name: default\nconfigs: [nginx]\ninstance_configs: [limits, raw]\n",
  }, "second");
  return { dir, head };
}

test("the configs and instance configs of the served commit, with versions, commits, the groups applying them and the v2 rule", async (t) => {
  const { dir, head } = repo();
  const s = await withServer(t, { repo: dir });
  const first = git(dir, "rev-parse", "HEAD~1").trim();

  const list = await fetch(`${s.url}/api/v1/configs`);
  t.is(list.status, 200);
  const body = (await list.json()) as { code: string; servedCommit: string; configs: Record<string, unknown>[] };
  t.is(body.code, "Accept");
  t.is(body.servedCommit, head);
  t.deepEqual(body.configs.map((c) => c.name), ["nginx", "plain", "unused"]);
  t.deepEqual(body.configs[0], {
    name: "nginx",
    agentType: "LoongCollector",
    description: "nginx access log",
    content: "inputs:\n  - Type: input_file\n",
    version: 1,
    commit: first,
    groups: ["default", "web"],
    notForV2: null,
  });
  t.like(body.configs[1], { name: "plain", version: 2, commit: head, groups: ["web"] });
  t.regex(String(body.configs[1]?.notForV2), /not a YAML or JSON mapping/);
  t.like(body.configs[2], { name: "unused", groups: [], notForV2: null });

  const one = await fetch(`${s.url}/api/v1/configs/plain`);
  t.is(one.status, 200);
  const plain = (await one.json()) as Record<string, unknown>;
  t.deepEqual(plain, { code: "Accept", message: "Get config success", servedCommit: head, ...body.configs[1] });

  const instances = (await (await fetch(`${s.url}/api/v1/instance-configs/`)).json()) as { servedCommit: string; instanceConfigs: Record<string, unknown>[] };
  t.is(instances.servedCommit, head);
  t.deepEqual(instances.instanceConfigs[0], {
    name: "limits",
    description: "process settings",
    content: "cpu_usage_limit: 0.4\n",
    version: 2,
    commit: head,
    groups: ["default", "web"],
    notForV2: null,
  });
  t.like(instances.instanceConfigs[1], { name: "raw", groups: ["default"] });
  t.regex(String(instances.instanceConfigs[1]?.notForV2), /not a YAML or JSON mapping/);
  t.false("agentType" in (instances.instanceConfigs[0] ?? {}));
  const limits = (await (await fetch(`${s.url}/api/v1/instance-configs/limits`)).json()) as Record<string, unknown>;
  t.like(limits, { code: "Accept", name: "limits", groups: ["default", "web"], version: 2 });

  // /status and the listing agree on what v2 agents cannot take.
  const status = (await (await fetch(`${s.url}/status`)).json()) as { notForV2: { name: string; problem: string }[] };
  t.deepEqual(status.notForV2.map((c) => c.problem), [plain.notForV2, instances.instanceConfigs[1]?.notForV2]);

  // A commit by a person moves the answer to the new snapshot.
  const third = commitFiles(dir, { "configs/nginx.yaml": config("nginx", "inputs: []\n") }, "third");
  await waitForCommit(s.url, third);
  const moved = (await (await fetch(`${s.url}/api/v1/configs/nginx`)).json()) as Record<string, unknown>;
  t.like(moved, { servedCommit: third, version: 3, commit: third, content: "inputs: []\n" });
});

test("unknown names are 404 ConfigNotExist, impossible names 400 InvalidParameter, and the routes need the user token", async (t) => {
  const { dir } = repo();
  const s = await withServer(t, { repo: dir, userToken: "secret-user-token" });
  const get = (path: string, token = "secret-user-token") => fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

  const missing = await get("/api/v1/configs/limits");
  t.is(missing.status, 404);
  t.deepEqual(await missing.json(), { code: "ConfigNotExist", message: "Config limits doesn't exist in the served commit." });
  const missingInstance = await get("/api/v1/instance-configs/nginx");
  t.is(missingInstance.status, 404);
  t.deepEqual(await missingInstance.json(), { code: "ConfigNotExist", message: "Instance config nginx doesn't exist in the served commit." });

  const bad = await get(`/api/v1/configs/${encodeURIComponent("a b")}`);
  t.is(bad.status, 400);
  const badBody = (await bad.json()) as { code: string; message: string };
  t.is(badBody.code, "InvalidParameter");
  t.regex(badBody.message, /^Invalid config name "a b": a name must match/);
  const badInstance = await get("/api/v1/instance-configs/-x");
  t.is(badInstance.status, 400);
  t.regex(((await badInstance.json()) as { message: string }).message, /^Invalid instance config name "-x"/);

  for (const path of ["/api/v1/configs", "/api/v1/configs/nginx", "/api/v1/instance-configs", "/api/v1/instance-configs/limits"]) {
    t.is((await get(path, "wrong")).status, 401, path);
    t.is((await fetch(`${s.url}${path}`)).status, 401, path);
    t.is((await get(path)).status, 200, path);
  }
});

test("an empty repository lists nothing and names no commit", async (t) => {
  const s = await withServer(t);
  t.deepEqual(await (await fetch(`${s.url}/api/v1/configs`)).json(), { code: "Accept", message: "List configs success", servedCommit: null, configs: [] });
  t.deepEqual(await (await fetch(`${s.url}/api/v1/instance-configs`)).json(), { code: "Accept", message: "List instance configs success", servedCommit: null, instanceConfigs: [] });
});
