import { useState } from "preact/hooks";
import { ApiError, q, write } from "../api.ts";
import { Card, ErrorBox, Link, Loading, Table } from "../components/Bits.tsx";
import { Message } from "../components/Message.tsx";
import { short, when } from "../format.ts";
import { usePoll } from "../poll.ts";
import type { RolloutRun, Status } from "../types.ts";
import { useWhoAndWhy, type WhoAndWhyState } from "./WhoAndWhy.tsx";

type Action = "pause" | "resume" | "promote" | "abort";

/** What each button does, said on it (title) so nobody presses abort to pause. */
const ACTIONS: readonly (readonly [Action, string, string])[] = [
  ["pause", "Pause", "stop advancing; agents keep what they have"],
  ["resume", "Resume", "go on from this wave (a halted rollout accepts its failures so far)"],
  ["promote", "Promote", "give the new version to every agent now"],
  ["abort", "Abort", "revert now: every agent back on the previous version, with a revert commit"],
];

/** The actions the rollout's state allows (the server refuses the others, saying why). */
function allowed(r: RolloutRun): Set<Action> {
  if (r.mode === "pinned" || r.state === "completed" || r.state === "reverted") return new Set();
  if (r.state === "progressing") return new Set(["pause", "promote", "abort"]);
  if (r.state === "paused") return new Set(["resume", "promote", "abort"]);
  return new Set(["resume", "abort"]);
}

const pageOf = (r: RolloutRun) => [r.kind === "instance" ? "instance-configs" : "configs", r.config];
const versionText = (v: { version: number } | null) => (v ? `version ${v.version}` : "new");

/** The waves as one bar: done, current (by the share of its agents that applied), to come. */
function WaveBar({ r }: { r: RolloutRun }) {
  return (
    <div class="wavebar" role="img" aria-label={`wave ${r.wave} of ${r.waves.length}, ${r.state}`}>
      {r.waves.map((w) => {
        const part = w.wave < r.wave || r.state === "completed" ? "done" : w.wave === r.wave ? "current" : "todo";
        const share = part === "current" && w.targeted > 0 ? (100 * w.applied) / w.targeted : part === "done" ? 100 : 0;
        return (
          <span key={w.wave} class={`wave w-${part}${w.failed > 0 ? " w-failed" : ""}`} title={`wave ${w.wave} (${w.text}): ${w.applied} of ${w.targeted} applied`}>
            <span class="fill" style={{ width: `${share}%` }} />
            <span class="label">{w.text}</span>
          </span>
        );
      })}
    </div>
  );
}

function Run({ r, who }: { r: RolloutRun; who: WhoAndWhyState }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const can = allowed(r);
  const act = async (action: Action) => {
    setBusy(true);
    setResult(undefined);
    try {
      const answer = await write<RolloutRun>("POST", `/api/v1/rollouts/${q(r.config)}/${action}?kind=${r.kind}`, {}, { ...who.value, message: "" });
      setResult({ ok: true, text: `${action}: the rollout is ${answer.state}.` });
    } catch (e) {
      setResult({ ok: false, text: e instanceof ApiError ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card rollout-run" data-config={r.config} data-state={r.state} aria-label={`rollout of ${r.config}`}>
      <h2>
        <Link to={pageOf(r)}>{r.config}</Link>{r.kind === "instance" && <span class="muted"> (instance config)</span>}{" "}
        <span class="versions">{versionText(r.from)} → version {r.to.version}</span>
        <span class={`badge rs-${r.state}`}>{r.state}</span>
      </h2>
      <p class="muted">Commit <code title={r.to.commit}>{short(r.to.commit)}</code>, started {when(r.startedAt)}{r.endedAt && <>, ended {when(r.endedAt)}</>}. Wave {r.wave} of {r.waves.length}.</p>
      <WaveBar r={r} />
      <Table label={`waves of ${r.config}`}>
        <thead><tr><th>Wave</th><th>Selects</th><th>Targeted</th><th>Applied</th><th>Applying</th><th>Failed</th><th>Not reported</th></tr></thead>
        <tbody>
          {r.waves.map((w) => (
            <tr key={w.wave} class={w.wave === r.wave ? "current" : undefined}>
              <td>{w.wave}</td><td>{w.text}</td><td>{w.targeted}</td><td>{w.applied}</td><td>{w.applying}</td><td class={w.failed ? "warn" : undefined}>{w.failed}</td><td>{w.notReported}</td>
            </tr>
          ))}
        </tbody>
      </Table>
      {r.haltReason && <p class="error halt-reason">{r.haltReason}</p>}
      {r.revertPending && <p class="warn revert-pending">{r.revertPending}</p>}
      {r.revertCommit && (
        <p class="revert-commit">Reverted by commit <Link to={pageOf(r)} query={{ diff: r.revertCommit }}><code title={r.revertCommit}>{short(r.revertCommit)}</code></Link>: its diff in the config's history.</p>
      )}
      {r.failures.length > 0 && (
        <div class="failures">
          <h3>Failures</h3>
          {r.failures.map((f) => (
            <div class="failure" key={`${f.kind}:${f.message}`}>
              <p><strong>{f.count} agent{f.count === 1 ? "" : "s"}</strong> {f.reason}: {f.agents.map((a, i) => <span key={a}>{i > 0 && ", "}<Link to={["agents", a]}>{a}</Link></span>)}{f.count > f.agents.length && " …"}</p>
              {f.message && <Message text={f.message} />}
            </div>
          ))}
        </div>
      )}
      {can.size > 0 && (
        <div class="buttons rollout-actions">
          {ACTIONS.map(([a, label, title]) => <button key={a} type="button" class={a === "abort" ? "danger" : undefined} disabled={busy || !can.has(a)} title={title} onClick={() => void act(a)}>{label}</button>)}
        </div>
      )}
      {result && <p class={result.ok ? "ok" : "error"} role={result.ok ? "status" : "alert"}>{result.text}</p>}
      <details class="rollout-history">
        <summary>History ({r.history.length})</summary>
        <Table label={`history of the rollout of ${r.config}`}>
          <thead><tr><th>When</th><th>Who</th><th>What</th><th>Detail</th></tr></thead>
          <tbody>{r.history.map((e, i) => <tr key={i}><td>{when(e.at)}</td><td class="who">{e.who}</td><td class="action">{e.action}</td><td>{e.detail}</td></tr>)}</tbody>
        </Table>
      </details>
    </section>
  );
}

/** Every rollout the server keeps (in progress first, then ended), or one config's (`name`). */
export function Rollouts({ name }: { name?: string | undefined; status: Status | undefined }) {
  const list = usePoll<{ rollouts: RolloutRun[] }>("/api/v1/rollouts", 2000);
  const who = useWhoAndWhy();
  const all = list.data?.rollouts ?? [];
  const shown = name === undefined ? all : all.filter((r) => r.config === name);
  const open = (r: RolloutRun) => r.state === "progressing" || r.state === "paused" || r.state === "halted";
  const sorted = [...shown.filter(open), ...shown.filter((r) => !open(r))];
  return (
    <div>
      <div class="toolbar">
        <h1>Rollouts{name !== undefined && <> of <span class="name">{name}</span></>}</h1>
        {name !== undefined && <Link to={["rollouts"]}>All rollouts</Link>}
      </div>
      <p class="muted">A change to a config with a rollout policy (rollout.yaml, or a config's <code>rollout:</code>) reaches its agents wave by wave, and halts when agents fail.</p>
      <Card title="Acting as" id="rollout-who">
        <fieldset class="who">
          <label>Your name <input name="authorName" value={who.value.authorName} placeholder="Jane Doe" autocomplete="name" onInput={(e) => who.set({ authorName: e.currentTarget.value })} /></label>
          <label>Your email <input name="authorEmail" type="email" value={who.value.authorEmail} placeholder="jane@example.com" autocomplete="email" onInput={(e) => who.set({ authorEmail: e.currentTarget.value })} /></label>
        </fieldset>
        <p class="muted">Each action is kept in the rollout's history with who did it (a token that carries its own identity is recorded as that identity).</p>
      </Card>
      <ErrorBox error={list.error} />
      {!list.data ? !list.error && <Loading what="the rollouts" /> : sorted.length === 0 ? <p class="muted">No rollouts{name !== undefined && ` of ${name}`}.</p> : sorted.map((r) => <Run key={`${r.kind}:${r.config}`} r={r} who={who} />)}
    </div>
  );
}

/** On a config's page: the rollout in progress, if any, with a link to the Rollouts page. */
export function RolloutPanel({ name, kind }: { name: string; kind: "pipeline" | "instance" }) {
  // The list, not /api/v1/rollouts/NAME: a config without a rollout would be a 404 at every poll.
  const r = usePoll<{ rollouts: RolloutRun[] }>("/api/v1/rollouts").data?.rollouts.find((x) => x.config === name && x.kind === kind);
  if (!r || r.mode === "pinned" || (r.state !== "progressing" && r.state !== "paused" && r.state !== "halted")) return null;
  return (
    <div class={`rollout-panel rp-${r.state}`} role="status">
      <p>
        <strong>Rollout {r.state}:</strong> {versionText(r.from)} → version {r.to.version}, wave {r.wave} of {r.waves.length}
        {" "}({r.waves[r.wave - 1]?.applied ?? 0} of {r.waves[r.wave - 1]?.targeted ?? 0} applied{r.failures.length > 0 && `, ${r.failures.reduce((n, f) => n + f.count, 0)} failed`}).{" "}
        <Link to={["rollouts", name]}>Open on the Rollouts page</Link>
      </p>
      <WaveBar r={r} />
    </div>
  );
}
