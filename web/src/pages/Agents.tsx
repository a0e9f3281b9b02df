import { Fragment } from "preact";
import { Message } from "../components/Message.tsx";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, q } from "../api.ts";
import { Card, ErrorBox, Link, Loading, Status as StatusBadge, Table, Tags } from "../components/Bits.tsx";
import { ago, when } from "../format.ts";
import { usePoll } from "../poll.ts";
import { go, type Route } from "../route.ts";
import type { AgentDetail as Detail, AgentSummary, ConfigReport, Group } from "../types.ts";

const PAGE = 50;
const FILTERS = ["q", "tag", "group", "protocol", "version", "failed", "late", "config", "configState"] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

function filtersOf(query: URLSearchParams): Filters {
  const f: Filters = {};
  for (const k of FILTERS) {
    const v = query.get(k);
    if (v) f[k] = v;
  }
  return f;
}

/** The listing is filtered and paged by the server (GET /api/v1/agents): fast at any fleet size. */
export function Agents({ route }: { route: Route }) {
  const applied = filtersOf(route.query);
  const after = route.query.get("after") ?? undefined;
  const [draft, setDraft] = useState<Filters>(applied);
  const [pages, setPages] = useState<string[]>([]);
  const groups = usePoll<{ groups: Group[] }>("/api/v1/groups", 30_000);
  const params = new URLSearchParams({ ...applied, limit: String(PAGE) } as Record<string, string>);
  if (after) params.set("after", after);
  const list = usePoll<{ agents: AgentSummary[]; total: number; next: string | null }>(`/api/v1/agents?${params}`);
  const first = useRef(true);
  const key = JSON.stringify(applied);
  useEffect(() => setDraft(filtersOf(route.query)), [key]);
  // Typing filters the list after a short pause; the filters live in the URL, so a link keeps them.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const timer = setTimeout(() => {
      if (JSON.stringify(draft) !== key) {
        setPages([]);
        go(["agents"], draft);
      }
    }, 250);
    return () => clearTimeout(timer);
  }, [JSON.stringify(draft)]);
  const set = (k: keyof Filters) => (e: Event) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value || undefined });
  const data = list.data;
  return (
    <div>
      <h1>Agents</h1>
      <form class="filters" aria-label="filter agents" onSubmit={(e) => { e.preventDefault(); setPages([]); go(["agents"], draft); }}>
        <label>Search <input type="search" name="q" value={draft.q ?? ""} onInput={set("q")} placeholder="id, ip or hostname" /></label>
        <label>Tag <input name="tag" value={draft.tag ?? ""} onInput={set("tag")} placeholder="name=value" /></label>
        <label>Group <select name="group" value={draft.group ?? ""} onChange={set("group")}>
          <option value="">any</option>
          {groups.data?.groups.map((g) => <option key={g.name} value={g.name}>{g.name}</option>)}
        </select></label>
        <label>Protocol <select name="protocol" value={draft.protocol ?? ""} onChange={set("protocol")}>
          <option value="">any</option><option value="v2">v2</option><option value="v1">v1</option><option value="alpha">alpha</option><option value="opamp">opamp</option>
        </select></label>
        <label>Version <input name="version" value={draft.version ?? ""} onInput={set("version")} placeholder="3.0.5" size={8} /></label>
        <label>Configs <select name="failed" value={draft.failed ?? ""} onChange={set("failed")}>
          <option value="">any</option><option value="true">some failed</option><option value="false">none failed</option>
        </select></label>
        <label>Liveness <select name="late" value={draft.late ?? ""} onChange={set("late")}>
          <option value="">any</option><option value="false">alive</option><option value="true">late</option>
        </select></label>
        {(draft.config || draft.configState) && <span class="chip">config {draft.config} {draft.configState ?? "targeted"} <button type="button" class="link" onClick={() => setDraft({ ...draft, config: undefined, configState: undefined })}>×</button></span>}
      </form>
      <ErrorBox error={list.error} />
      {!data ? !list.error && <Loading what="agents" /> : (
        <>
          <p class="muted total" aria-live="polite">{data.total} agent{data.total === 1 ? "" : "s"} match{data.total === 1 ? "es" : ""}{data.total > PAGE ? `; ${PAGE} per page` : ""}.</p>
          <Table label="agents">
            <thead><tr><th>Agent</th><th>Protocol</th><th>Version</th><th>IP</th><th>Host</th><th>Tags</th><th>Last heartbeat</th><th>Alarms</th></tr></thead>
            <tbody>
              {data.agents.map((a) => (
                <tr key={a.agentId} class={a.late ? "late" : undefined}>
                  <td><Link to={["agents", a.agentId]}>{a.agentId}</Link></td>
                  <td>{a.protocol}</td>
                  <td>{a.version}</td>
                  <td>{a.ip}</td>
                  <td>{a.hostname}</td>
                  <td><Tags tags={a.tags} values={a.tagValues} /></td>
                  <td title={a.latestHeartbeatAt ?? ""}>{ago(a.latestHeartbeatAt)}{a.late && <span class="badge s-failed">late</span>}</td>
                  <td>{a.alarmCount || ""}</td>
                </tr>
              ))}
              {data.agents.length === 0 && <tr><td colSpan={8} class="muted">No agent matches.</td></tr>}
            </tbody>
          </Table>
          <div class="pager">
            <button type="button" disabled={!after} onClick={() => { const prev = pages.slice(0, -1); setPages(prev); go(["agents"], { ...applied, after: prev.at(-1) }); }}>Previous</button>
            <button type="button" disabled={!data.next} onClick={() => { if (data.next) { setPages([...pages, data.next]); go(["agents"], { ...applied, after: data.next }); } }}>Next</button>
          </div>
        </>
      )}
    </div>
  );
}

function Reports({ reports, label }: { reports: readonly ConfigReport[]; label: string }) {
  if (reports.length === 0) return <p class="muted">none reported</p>;
  return (
    <Table label={label}>
      <thead><tr><th>Name</th><th>Version</th><th>Status</th></tr></thead>
      {/* The message gets a row of its own, as wide as the table: a narrow column wraps it every few characters. */}
      <tbody>{reports.map((r) => (
        <Fragment key={r.name}>
          <tr class={r.message ? "has-message" : undefined}><td>{label === "pipeline configs" ? <Link to={["configs", r.name]}>{r.name}</Link> : r.name}</td><td>{r.version}</td><td><StatusBadge status={r.status} /></td></tr>
          {r.message && <tr class="message-row"><td colSpan={3}><Message text={r.message} /></td></tr>}
        </Fragment>
      ))}</tbody>
    </Table>
  );
}

/** What an OpAMP agent says beyond a heartbeat, and whether what it runs is what git says (drift). */
function OpampCard({ a }: { a: Detail }) {
  const drift = a.drift;
  return (
    <Card title="OpenTelemetry (OpAMP)" id="agent-opamp">
      <dl class="facts">
        <dt>Health</dt><dd>{a.health ? <>{a.health.healthy ? "healthy" : <span class="badge s-failed">unhealthy</span>} {a.health.status} <span class="msg">{a.health.lastError}</span></> : <span class="muted">not reported</span>}</dd>
        <dt>Remote config</dt><dd>{a.remoteConfig?.hash ? <><StatusBadge status={a.remoteConfig.status} /> <span class="msg">{a.remoteConfig.error}</span></> : <span class="muted">none applied yet</span>}</dd>
        <dt>Capabilities</dt><dd>{(a.capabilities ?? []).join(", ")}</dd>
        <dt>Drift</dt><dd id="agent-drift">{!drift || drift.state === "unknown" ? <span class="muted">unknown: no effective config reported</span> : drift.state === "drift" ? <span class="badge s-failed">drift</span> : "none: it runs what git says"}</dd>
      </dl>
      {drift && drift.files.length > 0 && (
        <Table label="effective config against git">
          <thead><tr><th>File</th><th>In what it runs</th></tr></thead>
          <tbody>{drift.files.map((f) => <tr key={f.name}><td><Link to={["configs", f.name]}>{f.name}</Link></td><td>{f.state}</td></tr>)}</tbody>
        </Table>
      )}
      {drift && drift.unmanaged.length > 0 && <p class="muted">Also runs, not from the repository: {drift.unmanaged.join(", ")}</p>}
    </Card>
  );
}

export function AgentDetail({ id }: { id: string }) {
  const agent = usePoll<Detail>(`/api/v1/agents/${q(id)}`);
  const a = agent.data;
  if (agent.error instanceof ApiError && agent.error.status === 404) return <div><h1>Agent {id}</h1><ErrorBox error={agent.error} /><p><Link to={["agents"]}>All agents</Link></p></div>;
  return (
    <div>
      <h1>Agent <span class="name">{id}</span></h1>
      <ErrorBox error={agent.error} />
      {!a ? <Loading what="the agent" /> : (
        <div class="grid">
          <Card title="Agent" id="agent-facts">
            <dl class="facts">
              <dt>Protocol</dt><dd>{a.protocol}</dd>
              <dt>Type, version</dt><dd>{a.agentType} {a.version}</dd>
              <dt>IP, host</dt><dd>{a.ip} {a.hostname}</dd>
              <dt>Status</dt><dd>{a.runningStatus}{a.late && <span class="badge s-failed">late</span>}</dd>
              <dt>Last heartbeat</dt><dd>{when(a.latestHeartbeatAt)}</dd>
              <dt>Tags</dt><dd><Tags tags={a.tags} values={a.tagValues} /></dd>
              <dt>Groups</dt><dd>{a.groups.map((g, i) => <span key={g}>{i > 0 && ", "}<Link to={["groups", g]}>{g}</Link></span>)}</dd>
            </dl>
          </Card>
          <Card title="Attributes" id="agent-attributes">
            {Object.keys(a.attributes).length === 0 ? <p class="muted">none</p> : (
              <dl class="facts">{Object.entries(a.attributes).map(([k, v]) => <><dt key={`k${k}`}>{k}</dt><dd key={`v${k}`}>{v}</dd></>)}</dl>
            )}
            {a.statistics && (
              <dl class="facts">
                <dt>CPU</dt><dd>{a.statistics.cpu}</dd>
                <dt>Memory</dt><dd>{a.statistics.memory}</dd>
                {Object.entries(a.statistics.extras).map(([k, v]) => <><dt key={`k${k}`}>{k}</dt><dd key={`v${k}`}>{v}</dd></>)}
              </dl>
            )}
          </Card>
          {a.protocol === "opamp" && <OpampCard a={a} />}
          <Card title="Pipeline configs" id="agent-pipelines"><Reports reports={a.pipelineConfigs} label="pipeline configs" /></Card>
          <Card title="Instance configs" id="agent-instances"><Reports reports={a.instanceConfigs} label="instance configs" /></Card>
          <Card title="Alarms" id="agent-alarms">
            {a.alarms.length === 0 ? <p class="muted">none</p> : (
              <ul class="alarms">{[...a.alarms].reverse().map((x, i) => <li key={i}><strong>{x.type}</strong> <span class="muted">{ago(x.at)}</span><pre>{x.detail}</pre></li>)}</ul>
            )}
          </Card>
        </div>
      )}
    </div>
  );
}
