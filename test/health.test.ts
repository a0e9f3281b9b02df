import { renameSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import test from "ava";
import pino from "pino";
import { pb, send } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { bareRemote, commitFiles, configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { servedCommit, statusOf } from "./helpers/observe.ts";

const readyz = async (url: string) => {
  const r = await send(url, "GET", "/readyz", "");
  return { status: r.status, ...(JSON.parse(r.body.toString()) as { ready: boolean; reasons: string[]; commit: string | null }) };
};

const good = { "configs/c1.yaml": configYaml("c1", "x"), "agent_groups/default.yaml": groupYaml("default", ["c1"]) };
const broken = { "configs/c1.yaml": "config_name: [unclosed\n" };

test("healthz is 200; readyz is 200 with a served commit that accepts writes", async (t) => {
  const s = await withServer(t, { repo: repoWith("cs-health-", good) });
  const h = await send(s.url, "GET", "/healthz", "");
  t.is(h.status, 200);
  t.deepEqual(JSON.parse(h.body.toString()), { status: "ok" });
  t.like(await readyz(s.url), { status: 200, ready: true, reasons: [] });
  t.is((await send(s.url, "GET", "/healthz/", "")).status, 200);
});

test("a new, empty repository is ready", async (t) => {
  const s = await withServer(t);
  t.like(await readyz(s.url), { status: 200, ready: true });
});

test("readyz stays 200 while HEAD fails validation: the last good commit is still served; /status and /metrics say what is wrong", async (t) => {
  const rw = await withServer(t, { repo: repoWith("cs-health-", good) });
  const ro = await withServer(t, { repo: repoWith("cs-health-", good), readOnly: true });
  const served = await servedCommit(rw.url);
  for (const s of [rw, ro]) commitFiles(s.repo, broken, "break it");
  await waitFor(async () => (await statusOf(rw.url)).refused && (await statusOf(ro.url)).refused);
  t.deepEqual(await readyz(rw.url), { status: 200, ready: true, reasons: [], commit: served });
  t.like(await readyz(ro.url), { status: 200, ready: true });
  const status = JSON.parse((await send(rw.url, "GET", "/status", "")).body.toString()) as { commit: string; refused: { commit: string } | null };
  t.is(status.commit, served);
  t.is(status.refused?.commit, git(rw.repo, "rev-parse", "HEAD").trim(), "the broken HEAD is the refused commit");
  t.regex((await send(rw.url, "GET", "/metrics", "")).body.toString(), /^configserver_head_refused 1$/m);
  // Fixed by the next good commit.
  commitFiles(rw.repo, { "configs/c1.yaml": configYaml("c1", "fixed") }, "fix it");
  await waitFor(async () => !(await statusOf(rw.url)).refused);
  t.like(await readyz(rw.url), { ready: true, commit: git(rw.repo, "rev-parse", "HEAD").trim() });
});

test("readyz stays 200 while the remote cannot be fetched or pushed to; the sync error is a status and a metric", async (t) => {
  const { url, bare } = bareRemote(good);
  const s = await withServer(t, { repo: join(tempDir("cs-health-clone-"), "repo"), remote: url, syncIntervalMs: 100 });
  renameSync(bare, `${bare}-away`);
  const status = await waitFor(async () => {
    const st = JSON.parse((await send(s.url, "GET", "/status", "")).body.toString()) as { lastFetchError: string | null };
    return st.lastFetchError ? st : undefined;
  });
  t.regex(status.lastFetchError ?? "", /fetch/);
  // A write that cannot be pushed is refused; readiness does not change.
  const w = await s.api.updateConfig({ config_detail: { config_name: "c1", content: "not pushed" } });
  t.is(w.body.code, "ServerBusy");
  t.like(await readyz(s.url), { status: 200, ready: true, commit: await servedCommit(s.url) });
  t.regex((await send(s.url, "GET", "/metrics", "")).body.toString(), /^configserver_syncs_total\{result="error"\} [1-9]/m);
});

test("a probe answered 503 logs at debug, not an error per probe", async (t) => {
  const lines: { level: number; route?: string; status?: number }[] = [];
  const logger = pino({ level: "debug" }, { write: (l: string) => void lines.push(JSON.parse(l) as { level: number }) });
  const s = await withServer(t, { repo: repoWith("cs-health-", broken), readOnly: true, logger });
  for (let i = 0; i < 3; i++) t.is((await readyz(s.url)).status, 503);
  const probes = await waitFor(() => (lines.filter((l) => l.route === "/readyz").length === 3 ? lines.filter((l) => l.route === "/readyz") : undefined));
  t.deepEqual(probes.map((l) => [l.status, l.level]), [[503, 20], [503, 20], [503, 20]]);
});

test("read-only with no valid commit at all is not ready", async (t) => {
  const s = await withServer(t, { repo: repoWith("cs-health-", broken), readOnly: true });
  const r = await readyz(s.url);
  t.is(r.status, 503);
  t.regex(r.reasons.join(), /no valid commit is loaded/);
});

test("a body over the limit is 413 with a protobuf BadRequest", async (t) => {
  const s = await withServer(t, { bodyLimit: 1024 });
  const big = pb.CreateConfigRequest.encode({ config_detail: { config_name: "big", content: "x".repeat(2048) } }).finish();
  const r = await send(s.url, "POST", "/User/CreateConfig", big);
  t.is(r.status, 413);
  t.is(pb.CreateConfigResponse.decode(r.body).code, "BadRequest");
});

test("a request not answered in time gets RequestTimeout (HTTP 500) in the route's message", async (t) => {
  const s = await withServer(t, { requestTimeoutMs: 200 });
  // A client that announces a body and never finishes sending it.
  const res = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    const req = request(`${s.url}/Agent/HeartBeat`, { method: "POST", headers: { "content-length": "100" } }, (r) => {
      const chunks: Buffer[] = [];
      r.on("data", (c: Buffer) => chunks.push(c));
      r.on("end", () => {
        resolve({ status: r.statusCode ?? 0, body: Buffer.concat(chunks) });
        req.destroy();
      });
    });
    req.on("error", reject);
    req.write(Buffer.alloc(10));
  });
  t.is(res.status, 500);
  const body = pb.HeartBeatResponse.decode(res.body);
  t.is(body.code, "RequestTimeout");
  t.regex(body.message, /within 200 ms/);
});
