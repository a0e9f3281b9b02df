import { useState } from "preact/hooks";
import { ApiError, q, write } from "../api.ts";
import { Card, ErrorBox, Link, Loading, Table } from "../components/Bits.tsx";
import { Code } from "../components/Code.tsx";
import { Message } from "../components/Message.tsx";
import { Dialog } from "../components/Dialog.tsx";
import { DiffView } from "../components/DiffView.tsx";
import { short, when } from "../format.ts";
import { usePoll } from "../poll.ts";
import { href } from "../route.ts";
import type { ConfigItem, Diff, HistoryEntry, Rollout, Status } from "../types.ts";
import { WhoAndWhy, useWhoAndWhy } from "./WhoAndWhy.tsx";
import { CommitLink } from "./Overview.tsx";
import { RolloutPanel } from "./Rollouts.tsx";


const STATES = [
  ["applied", "Applied"],
  ["applying", "Applying"],
  ["failed", "Failed"],
  ["older", "Older version"],
  ["notReported", "Not reported"],
] as const;

/** Pipeline configs (`configs/`) or instance configs (`instance_configs/`, read-only here: no API writes them). */
export type ConfigKind = "pipeline" | "instance";
const BASE: Record<ConfigKind, string> = { pipeline: "/api/v1/configs", instance: "/api/v1/instance-configs" };

function RolloutView({ name, rollout, kind }: { name: string; rollout: Rollout; kind: ConfigKind }) {
  // The agents listing filters by pipeline configs only.
  const count = (k: (typeof STATES)[number][0]) => {
    const n = <strong class={`count-${k}`}>{rollout[k]}</strong>;
    return kind === "pipeline" ? <Link to={["agents"]} query={{ config: name, configState: k }}>{n}</Link> : n;
  };
  const total = Math.max(rollout.targeted, 1);
  return (
    <div class="rollout">
      <p>Version {rollout.servedVersion} targets {rollout.targeted} agent{rollout.targeted === 1 ? "" : "s"}.</p>
      <div class="bar" role="img" aria-label={STATES.map(([k, label]) => `${label} ${rollout[k]}`).join(", ")}>
        {STATES.map(([k]) => rollout[k] > 0 && <span key={k} class={`seg r-${k}`} style={{ width: `${(100 * rollout[k]) / total}%` }} />)}
      </div>
      <ul class="counts">
        {STATES.map(([k, label]) => (
          <li key={k} class={`r-${k}`}><span class="dot" /> {label}: {count(k)}</li>
        ))}
      </ul>
      {rollout.failures.length > 0 && (
        <div class="failures">
          <h3>Failures</h3>
          {rollout.failures.map((f) => (
            <div class="failure" key={f.message}>
              <Message text={f.message} />
              <p>{f.count} agent{f.count === 1 ? "" : "s"}: {f.agents.map((a, i) => <span key={a}>{i > 0 && ", "}<Link to={["agents", a]}>{a}</Link></span>)}{f.count > f.agents.length && " …"}</p>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

/**
 * One version. `newest`: the file as HEAD has it (nothing to roll back to). Refused versions
 * (HEAD's validation failed there) say why; the served one is what agents hold.
 */
function HistoryRow({ name, kind, entry, newest, readOnly, onRollback, opened }: { name: string; kind: ConfigKind; entry: HistoryEntry; newest: boolean; readOnly: boolean; onRollback: (e: HistoryEntry) => void; opened: boolean }) {
  // `opened`: the page was asked for this version's diff (a revert commit linked from the Rollouts page).
  const [open, setOpen] = useState(opened);
  const diff = usePoll<Diff>(open && entry.action !== "deleted" ? `${BASE[kind]}/${q(name)}/diff?to=${entry.version}` : undefined, 0);
  const canRollBack = kind === "pipeline" && entry.action !== "deleted" && !entry.refused && !newest;
  return (
    <>
      <tr class={entry.served ? "current" : entry.refused ? "refused" : undefined}>
        <td>
          {entry.version}
          {entry.served && <span class="badge s-applied">served</span>}
          {entry.refused && <span class="badge s-failed" title={entry.refused.join("\n")}>refused</span>}
          {entry.keeps && <span class="badge s-older" title={`the content of commit ${entry.keeps}: agents keep version ${entry.version}`}>kept</span>}
        </td>
        <td>{entry.action}</td>
        <td><code title={entry.commit}>{short(entry.commit)}</code></td>
        <td>{entry.author}</td>
        <td>{when(entry.date)}</td>
        <td class="msg">{entry.commitMessage}{entry.refused && <ul class="problems">{entry.refused.map((p) => <li key={p}>{p}</li>)}</ul>}</td>
        <td class="actions">
          {entry.action !== "deleted" && <button type="button" class="link" aria-expanded={open} onClick={() => setOpen(!open)}>{open ? "Hide diff" : "Diff"}</button>}
          {canRollBack && (
            <button type="button" disabled={readOnly} title={readOnly ? "read-only server: open a pull request" : undefined} onClick={() => onRollback(entry)}>Roll back to {entry.version}</button>
          )}
        </td>
      </tr>
      {open && (
        <tr class="diff-row"><td colSpan={7}>{diff.data ? <DiffView diff={diff.data} /> : diff.error ? <ErrorBox error={diff.error} /> : <Loading what="the diff" />}</td></tr>
      )}
    </>
  );
}

export function ConfigDetail({ name, status, kind = "pipeline", diff }: { name: string; status: Status | undefined; kind?: ConfigKind; diff?: string | undefined }) {
  const base = `${BASE[kind]}/${q(name)}`;
  const config = usePoll<ConfigItem>(base);
  const rollout = usePoll<Rollout>(`${base}/rollout`);
  const history = usePoll<{ versions: HistoryEntry[] }>(`${base}/history`, 10_000);
  const title = kind === "pipeline" ? "Config" : "Instance config";
  const [target, setTarget] = useState<HistoryEntry | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const [failed, setFailed] = useState<Error | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const who = useWhoAndWhy();
  const readOnly = status?.readOnly ?? true;
  const c = config.data;
  const versions = history.data?.versions;
  const path = `${kind === "pipeline" ? "configs" : "instance_configs"}/${name}.yaml`;
  const ownProblems = status?.refused?.problems.filter((p) => p.file === path) ?? [];
  const rollback = async () => {
    if (!target) return;
    setBusy(true);
    setFailed(undefined);
    try {
      const meta = { ...who.value, message: who.value.message || `Roll back config ${name} to version ${target.version}` };
      const r = await write<{ commit: string | null; version: number | null; message: string; stillRefused?: unknown }>("POST", `/api/v1/configs/${q(name)}/rollback`, { version: target.version }, meta);
      // While HEAD is still broken elsewhere the server's sentence says what is.
      setDone(r.commit && !r.stillRefused ? `Committed ${short(r.commit)}: ${name} is now version ${r.version} (the content of version ${target.version}).` : r.commit ? `Committed ${short(r.commit)}. ${r.message}.` : `${r.message}.`);
      setTarget(undefined);
      who.clearMessage();
    } catch (e) {
      setFailed(e as Error);
    } finally {
      setBusy(false);
    }
  };
  if (config.error instanceof ApiError && config.error.status === 404) {
    return <div><h1>{title} {name}</h1><ErrorBox error={config.error} /><p><Link to={["configs"]}>All configs</Link></p></div>;
  }
  return (
    <div>
      <div class="toolbar">
        <h1>{title} <span class="name">{name}</span></h1>
        {kind === "pipeline" && !readOnly && <a class="button" href={href(["edit", "config", name])}>Edit</a>}
        {kind === "instance" && <span class="muted">changed by commits to instance_configs/{name}.yaml (no API writes instance configs)</span>}
      </div>
      <ErrorBox error={config.error} />
      {status?.refused && ownProblems.length > 0 && (
        <div class="error refused-file" role="alert">
          <p>
            HEAD <code>{short(status.refused.commit)}</code> changes <code>{path}</code> and fails validation, so it is not served
            {c ? <>: agents keep version {c.version}</> : null}. {kind === "pipeline" && !readOnly && <>Roll back to the served version in the <a href="#history" onClick={(e) => { e.preventDefault(); document.getElementById("history")?.scrollIntoView(); }}>history</a> to repair it, or fix the file with a commit.</>}
          </p>
          <ul class="problems">{ownProblems.map((p, i) => <li key={i}><code>{p.file}:{p.line}:{p.column}</code> {p.message}</li>)}</ul>
          <p><Link to={[]}>Every problem of HEAD</Link>{status.refused.problems.length > ownProblems.length && ` (${status.refused.problems.length - ownProblems.length} more in other files)`}</p>
        </div>
      )}
      {done && <p class="ok" role="status">{done}</p>}
      <RolloutPanel name={name} kind={kind} />
      {!c ? <Loading what="the config" /> : (
        <div class="grid">
          <Card title="Served version" id="config-facts">
            <dl class="facts">
              <dt>Version</dt><dd>{c.version} (<CommitLink commit={c.commit} status={status} />)</dd>
              {kind === "pipeline" && <><dt>Agent type</dt><dd>{c.agentType || <span class="muted">none</span>}</dd></>}
              <dt>Description</dt><dd>{c.description || <span class="muted">none</span>}</dd>
              <dt>Applied by</dt><dd>{c.groups.length ? c.groups.map((g, i) => <span key={g}>{i > 0 && ", "}<Link to={["groups", g]}>{g}</Link></span>) : <span class="muted">no group: no agent receives it</span>}</dd>
              {c.notForV2 !== null && <><dt>v2 agents</dt><dd class="warn">do not receive it: {c.notForV2}</dd></>}
            </dl>
          </Card>
          <Card title="Rollout of the served version" id="rollout">
            <ErrorBox error={rollout.error} />
            {rollout.data ? <RolloutView name={name} kind={kind} rollout={rollout.data} /> : !rollout.error && <Loading what="the rollout" />}
          </Card>
        </div>
      )}
      {c && (
        <Card title="Content" id="content">
          <Code text={c.content} label={`content of ${name}`} />
        </Card>
      )}
      <Card title="History" id="history">
        <ErrorBox error={history.error} />
        {!versions ? !history.error && <Loading what="the history" /> : (
          <Table label="history">
            <thead><tr><th>Version</th><th>Change</th><th>Commit</th><th>Author</th><th>Date</th><th>Message</th><th /></tr></thead>
            <tbody>{versions.map((v) => <HistoryRow key={v.commit} name={name} kind={kind} entry={v} newest={v === versions[0]} readOnly={readOnly} onRollback={(e) => { setFailed(undefined); setTarget(e); }} opened={diff !== undefined && v.commit === diff} />)}</tbody>
          </Table>
        )}
      </Card>
      <Dialog open={target !== undefined} title={`Roll back ${name} to version ${target?.version ?? ""}?`} onClose={() => setTarget(undefined)}>
        <p>This makes <strong>a new commit</strong> on top of HEAD that restores the file as it was at version {target?.version} (commit <code>{short(target?.commit)}</code>, {target?.commitMessage}). The history keeps every version.</p>
        <p>{target?.served
          ? <>It is the content agents hold: they keep version {target.version} and reload nothing. This is how a refused HEAD is repaired.</>
          : <>The config gets a new, higher version, which agents receive at their next heartbeat.</>}</p>
        <WhoAndWhy state={who} placeholder={`Roll back config ${name} to version ${target?.version ?? ""}`} />
        <ErrorBox error={failed} />
        <div class="buttons">
          <button type="button" onClick={() => setTarget(undefined)}>Cancel</button>
          <button type="button" class="primary" disabled={busy} onClick={rollback}>Make the commit</button>
        </div>
      </Dialog>
    </div>
  );
}

