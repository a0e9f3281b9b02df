import { Card, ErrorBox, Link, Loading, Table } from "../components/Bits.tsx";
import { ago, remoteWeb, short, when } from "../format.ts";
import { usePoll } from "../poll.ts";
import type { Commit, Fleet, RecentChange, Status } from "../types.ts";

export function CommitLink({ commit, status }: { commit: string; status: Status | undefined }) {
  const web = remoteWeb(status?.remote?.url, status?.remote?.branch);
  return web ? <a href={web.commit(commit)} rel="noreferrer noopener" target="_blank" title={commit}><code>{short(commit)}</code></a> : <code title={commit}>{short(commit)}</code>;
}

const COMMIT_STATES: Record<RecentChange["commitState"], string | undefined> = {
  served: "served",
  refused: "refused: fails validation",
  notServed: "not served yet",
  past: undefined,
};

/** Where one config change stands: served (with its rollout), superseded, deleted, or not served. */
function ConfigChange({ c }: { c: RecentChange["configs"][number] }) {
  const name = c.kind === "pipeline" ? <Link to={["configs", c.name]}>{c.name}</Link> : <Link to={["instance-configs", c.name]}>{c.name}</Link>;
  const r = c.rollout;
  const where = c.state === "served" && r
    ? <>version {r.servedVersion}: <span class="count-applied">{r.applied}</span> of {r.targeted} agent{r.targeted === 1 ? "" : "s"} applied{r.applying > 0 && `, ${r.applying} applying`}{r.failed > 0 && <>, <strong class="error">{r.failed} failed</strong></>}{r.older > 0 && `, ${r.older} on an older version`}{r.notReported > 0 && `, ${r.notReported} not reported`}</>
    : c.state === "superseded" ? <span class="muted">changed again since</span>
    : c.state === "deleted" ? <span class="muted">not in the served commit</span>
    : <span class="error">not served</span>;
  return <li class={`change-config st-${c.state}`}>{name} <span class="muted">({c.kind === "instance" ? "instance config, " : ""}{c.action})</span> — {where}</li>;
}

function RecentChanges() {
  const recent = usePoll<{ changes: RecentChange[] }>("/api/v1/changes?limit=10");
  return (
    <Card title="Recent changes" id="changes">
      <ErrorBox error={recent.error} />
      {!recent.data ? !recent.error && <Loading what="the recent changes" /> : recent.data.changes.length === 0 ? <p class="muted">No commit yet.</p> : (
        <div class="changes">
          {recent.data.changes.map((ch) => (
            <div class={`change cs-${ch.commitState}`} key={ch.commit}>
              <div><code title={ch.commit}>{short(ch.commit)}</code> <span class="subject">{ch.subject}</span>{COMMIT_STATES[ch.commitState] && <span class={`badge ${ch.commitState === "served" ? "s-applied" : "s-failed"}`}>{COMMIT_STATES[ch.commitState]}</span>}</div>
              <div class="muted">{ch.author} &lt;{ch.authorEmail}&gt; · {when(ch.date)}</div>
              {(ch.configs.length > 0 || ch.groups.length > 0) && (
                <ul>
                  {ch.configs.map((c) => <ConfigChange key={`${c.kind}:${c.name}`} c={c} />)}
                  {ch.groups.map((g) => <li key={`g:${g.name}`}>group {g.action === "deleted" ? g.name : <Link to={["groups", g.name]}>{g.name}</Link>} <span class="muted">({g.action})</span></li>)}
                </ul>
              )}
            </div>
          ))}
        </div>
      )}
    </Card>
  );
}

export function Overview({ status }: { status: Status | undefined }) {
  const commit = usePoll<Commit>(status?.commit ? `/api/v1/commits/${status.commit}` : undefined, 0);
  const fleet = usePoll<Fleet>("/api/v1/fleet");
  if (!status) return <Loading what="the server's status" />;
  const c = commit.data;
  const f = fleet.data;
  return (
    <div class="grid">
      <Card title="Served commit" id="served">
        {status.commit ? (
          <dl class="facts">
            <dt>Commit</dt><dd class="served-commit"><CommitLink commit={status.commit} status={status} /> <span class="muted">depth {status.depth}</span></dd>
            <dt>Message</dt><dd class="commit-subject">{c ? c.subject : "…"}</dd>
            <dt>Author</dt><dd>{c ? `${c.author} <${c.authorEmail}>` : "…"}</dd>
            <dt>Committed</dt><dd>{when(status.committedAt)}</dd>
            <dt>Contents</dt><dd><Link to={["configs"]}>{status.configs} configs</Link>, {status.instanceConfigs} instance configs, <Link to={["groups"]}>{status.groups} groups</Link></dd>
            <dt>Writes</dt><dd>{status.readOnly ? "read-only: changes come by pull request" : `accepted (${status.writer.mode}${status.writer.reason ? `: ${status.writer.reason}` : ""})`}</dd>
          </dl>
        ) : (
          <p>No commit yet: the repository is empty. Create a config to make the first commit.</p>
        )}
      </Card>
      <Card title="Sync" id="sync">
        {status.remote ? (
          <dl class="facts">
            <dt>Remote</dt><dd><code>{status.remote.url}</code> branch <code>{status.remote.branch}</code></dd>
            <dt>Last sync</dt><dd>{status.lastSync ? `${ago(status.lastSync.at)}: ${status.lastSync.ok ? "ok" : "failed"}, ${status.lastSync.action}` : "not yet"}</dd>
            {status.lastFetchError && <><dt>Fetch error</dt><dd class="error">{status.lastFetchError}</dd></>}
            {status.lastPushError && <><dt>Push error</dt><dd class="error">{status.lastPushError}</dd></>}
            {status.refusedRewrite && <><dt>Not followed</dt><dd class="error">{status.refusedRewrite}</dd></>}
          </dl>
        ) : (
          <p class="muted">No remote: the server serves its local repository{status.lastSync ? `, last reread ${ago(status.lastSync.at)}` : ""}.</p>
        )}
        {status.lastSync?.error && <p class="error">{status.lastSync.error}</p>}
      </Card>
      {status.refused && (
        <Card title="Refused commit" id="refused">
          <p class="error">HEAD <code>{short(status.refused.commit)}</code> fails validation and is not served; the commit above still is.</p>
          <ul class="problems">
            {status.refused.problems.map((p, i) => <li key={i}><code>{p.file}:{p.line}:{p.column}</code> {p.message}</li>)}
          </ul>
        </Card>
      )}
      <RecentChanges />
      {status.dirty.length > 0 && (
        <Card title="Uncommitted changes" id="dirty">
          <p>These files differ from the served commit in the working copy and are not served until committed:</p>
          <ul>{status.dirty.map((d) => <li key={d}><code>{d}</code></li>)}</ul>
        </Card>
      )}
      <Card title="Agents" id="fleet">
        <ErrorBox error={fleet.error} />
        {f ? (
          <>
            <p class="big"><Link to={["agents"]}>{f.agents} agents</Link> · <Link to={["agents"]} query={{ late: "true" }}>{f.late} late</Link> · <Link to={["agents"]} query={{ failed: "true" }}>{f.failed} with a failed config</Link></p>
            <Table label="agents by protocol">
              <thead><tr><th>Protocol</th><th>Agents</th></tr></thead>
              <tbody>{Object.entries(f.byProtocol).map(([p, n]) => <tr key={p}><td><Link to={["agents"]} query={{ protocol: p }}>{p}</Link></td><td>{n}</td></tr>)}</tbody>
            </Table>
            {f.byVersion.length > 0 && (
              <Table label="agents by version">
                <thead><tr><th>Version</th><th>Agents</th></tr></thead>
                <tbody>{f.byVersion.slice(0, 10).map((v) => <tr key={v.version}><td><Link to={["agents"]} query={{ version: v.version }}>{v.version || "(none)"}</Link></td><td>{v.agents}</td></tr>)}</tbody>
              </Table>
            )}
          </>
        ) : (
          !fleet.error && <Loading what="the fleet" />
        )}
      </Card>
      {status.notForV2.length > 0 && (
        <Card title="Not for v2 agents" id="not-v2">
          <p>Content that is not a YAML or JSON mapping: LoongCollector (v2) agents do not receive these.</p>
          <ul>{status.notForV2.map((n) => <li key={`${n.kind}:${n.name}`}>{n.kind === "pipeline" ? <Link to={["configs", n.name]}>{n.name}</Link> : n.name} ({n.kind}): {n.problem}</li>)}</ul>
        </Card>
      )}
    </div>
  );
}
