import { useState } from "preact/hooks";
import { ApiError, q, write } from "../api.ts";
import { Card, ErrorBox, Link, Loading, Table, Tags } from "../components/Bits.tsx";
import { usePoll } from "../poll.ts";
import { href } from "../route.ts";
import type { ConfigItem, Group, Status } from "../types.ts";
import { WhoAndWhy, useWhoAndWhy } from "./WhoAndWhy.tsx";

function selector(g: Group) {
  if (g.name === "default") return "every agent";
  if (g.tags.length === 0) return "no agent (no tags)";
  return `agents with ${g.tags.length > 1 ? "any of " : ""}these tags`;
}

export function Groups({ status }: { status: Status | undefined }) {
  const list = usePoll<{ groups: Group[] }>("/api/v1/groups");
  return (
    <div>
      <div class="toolbar">
        <h1>Agent groups</h1>
        {status && !status.readOnly && <a class="button" href={href(["edit", "group"])}>New group</a>}
      </div>
      <ErrorBox error={list.error} />
      {!list.data ? !list.error && <Loading what="groups" /> : (
        <Table label="groups">
          <thead><tr><th>Group</th><th>Selects</th><th>Tags</th><th>Configs</th><th>Agents</th><th>Description</th></tr></thead>
          <tbody>
            {list.data.groups.map((g) => (
              <tr key={g.name}>
                <td><Link to={["groups", g.name]}>{g.name}</Link></td>
                <td>{selector(g)}</td>
                <td><Tags tags={g.tags} /></td>
                <td>{g.configs.length ? g.configs.map((c, i) => <span key={c}>{i > 0 && ", "}<Link to={["configs", c]}>{c}</Link></span>) : <span class="muted">none</span>}</td>
                <td><Link to={["agents"]} query={{ group: g.name }}><span class="agent-count">{g.agents}</span></Link>{g.lateAgents > 0 && <span class="muted"> ({g.lateAgents} late)</span>}</td>
                <td>{g.description}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </div>
  );
}

export function GroupDetail({ name, status }: { name: string; status: Status | undefined }) {
  const group = usePoll<Group>(`/api/v1/groups/${q(name)}`);
  const configs = usePoll<{ configs: ConfigItem[] }>("/api/v1/configs");
  const who = useWhoAndWhy();
  const [pick, setPick] = useState("");
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const readOnly = status?.readOnly ?? true;
  const g = group.data;
  const change = async (apply: boolean, config: string) => {
    setResult(undefined);
    try {
      const body = { groupName: name, configName: config };
      const meta = { ...who.value, message: who.value.message || `${apply ? "Apply" : "Remove"} config ${config} ${apply ? "to" : "from"} agent group ${name}` };
      await write(apply ? "PUT" : "DELETE", apply ? "/User/ApplyConfigToAgentGroup" : "/User/RemoveConfigFromAgentGroup", body, meta);
      who.clearMessage();
      setPick("");
      setResult({ ok: true, text: `${apply ? "Applied" : "Removed"} ${config}: one commit.` });
    } catch (e) {
      setResult({ ok: false, text: (e as Error).message });
    }
  };
  if (group.error instanceof ApiError && group.error.status === 404) return <div><h1>Group {name}</h1><ErrorBox error={group.error} /></div>;
  const others = (configs.data?.configs ?? []).map((c) => c.name).filter((c) => !g?.configs.includes(c));
  return (
    <div>
      <div class="toolbar">
        <h1>Agent group <span class="name">{name}</span></h1>
        {!readOnly && <a class="button" href={href(["edit", "group", name])}>Edit file</a>}
      </div>
      <ErrorBox error={group.error} />
      {!g ? <Loading what="the group" /> : (
        <div class="grid">
          <Card title="Selects" id="group-facts">
            <dl class="facts">
              <dt>Agents</dt><dd><Link to={["agents"]} query={{ group: name }}><span class="agent-count">{g.agents}</span> agents</Link>{g.lateAgents > 0 && ` (${g.lateAgents} late)`}</dd>
              <dt>Rule</dt><dd>{selector(g)}</dd>
              <dt>Tags</dt><dd><Tags tags={g.tags} /></dd>
              <dt>Description</dt><dd>{g.description || <span class="muted">none</span>}</dd>
              {g.instanceConfigs.length > 0 && <><dt>Instance configs</dt><dd>{g.instanceConfigs.map((c, i) => <span key={c}>{i > 0 && ", "}<Link to={["instance-configs", c]}>{c}</Link></span>)}</dd></>}
            </dl>
          </Card>
          <Card title="Applied configs" id="group-configs">
            <ul class="applied">
              {g.configs.map((c) => (
                <li key={c}><Link to={["configs", c]}>{c}</Link> <button type="button" disabled={readOnly} onClick={() => void change(false, c)} aria-label={`remove ${c}`}>Remove</button></li>
              ))}
              {g.configs.length === 0 && <li class="muted">none</li>}
            </ul>
            <form class="inline" onSubmit={(e) => { e.preventDefault(); if (pick) void change(true, pick); }}>
              <label>Apply a config <select value={pick} disabled={readOnly} onChange={(e) => setPick(e.currentTarget.value)}>
                <option value="">choose…</option>
                {others.map((c) => <option key={c} value={c}>{c}</option>)}
              </select></label>
              <button type="submit" disabled={readOnly || !pick}>Apply</button>
            </form>
            <WhoAndWhy state={who} disabled={readOnly} placeholder="(a message is made for you)" />
            {result && <p class={result.ok ? "ok" : "error"} role="status">{result.text}</p>}
          </Card>
        </div>
      )}
    </div>
  );
}
