import { useState } from "preact/hooks";
import { ErrorBox, Link, Loading, Table } from "../components/Bits.tsx";
import { short } from "../format.ts";
import { usePoll } from "../poll.ts";
import { href } from "../route.ts";
import type { ConfigItem, Status } from "../types.ts";

function InstanceConfigs() {
  const list = usePoll<{ instanceConfigs: ConfigItem[] }>("/api/v1/instance-configs");
  const items = list.data?.instanceConfigs;
  if (!items || items.length === 0) return <ErrorBox error={list.error} />;
  return (
    <section class="card" id="instance-configs">
      <h2>Instance configs</h2>
      <p class="muted">The agents' own process settings (v2 and v1 agents), bound by groups' <code>instance_configs:</code>; changed by commits to the repository.</p>
      <Table label="instance configs">
        <thead><tr><th>Name</th><th>Version</th><th>Commit</th><th>Groups</th><th>Description</th></tr></thead>
        <tbody>{items.map((c) => (
          <tr key={c.name}>
            <td><Link to={["instance-configs", c.name]}>{c.name}</Link></td>
            <td>{c.version}</td>
            <td><code title={c.commit}>{short(c.commit)}</code></td>
            <td>{c.groups.length ? c.groups.map((g, i) => <span key={g}>{i > 0 && ", "}<Link to={["groups", g]}>{g}</Link></span>) : <span class="muted">none</span>}</td>
            <td>{c.description}</td>
          </tr>
        ))}</tbody>
      </Table>
    </section>
  );
}

export function Configs({ status }: { status: Status | undefined }) {
  const list = usePoll<{ configs: ConfigItem[] }>("/api/v1/configs");
  const [text, setText] = useState("");
  const [group, setGroup] = useState("");
  const [onlyNotV2, setOnlyNotV2] = useState(false);
  const [unapplied, setUnapplied] = useState(false);
  const configs = list.data?.configs;
  const groups = [...new Set(configs?.flatMap((c) => c.groups) ?? [])].sort();
  const t = text.trim().toLowerCase();
  const shown = configs?.filter((c) =>
    (!t || c.name.toLowerCase().includes(t) || c.description.toLowerCase().includes(t) || (c.agentType ?? "").toLowerCase().includes(t)) &&
    (!group || c.groups.includes(group)) &&
    (!onlyNotV2 || c.notForV2 !== null) &&
    (!unapplied || c.groups.length === 0));
  return (
    <div>
      <div class="toolbar">
        <h1>Configs</h1>
        {status && !status.readOnly && <a class="button" href={href(["edit", "config"])}>New config</a>}
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="filter configs">
        <label>Search <input type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder="name, description, agent type" /></label>
        <label>Applied by <select value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
          <option value="">any group</option>
          {groups.map((g) => <option key={g} value={g}>{g}</option>)}
        </select></label>
        <label class="check"><input type="checkbox" checked={unapplied} onChange={(e) => setUnapplied(e.currentTarget.checked)} /> applied by no group</label>
        <label class="check"><input type="checkbox" checked={onlyNotV2} onChange={(e) => setOnlyNotV2(e.currentTarget.checked)} /> not for v2 agents</label>
      </form>
      <ErrorBox error={list.error} />
      {!shown ? (!list.error && <Loading what="configs" />) : (
        <Table label="configs">
          <thead><tr><th>Name</th><th>Version</th><th>Commit</th><th>Agent type</th><th>Groups</th><th>Description</th></tr></thead>
          <tbody>
            {shown.map((c) => (
              <tr key={c.name}>
                <td><Link to={["configs", c.name]}>{c.name}</Link>{c.notForV2 !== null && <span class="badge s-warn" title={c.notForV2}>not v2</span>}</td>
                <td>{c.version}</td>
                <td><code title={c.commit}>{short(c.commit)}</code></td>
                <td>{c.agentType}</td>
                <td>{c.groups.length ? c.groups.map((g, i) => <span key={g}>{i > 0 && ", "}<Link to={["groups", g]}>{g}</Link></span>) : <span class="muted">none</span>}</td>
                <td>{c.description}</td>
              </tr>
            ))}
            {shown.length === 0 && <tr><td colSpan={6} class="muted">No config matches.</td></tr>}
          </tbody>
        </Table>
      )}
      <InstanceConfigs />
    </div>
  );
}
