import { useEffect, useRef, useState } from "preact/hooks";
import { get, q, request, write } from "../api.ts";
import { ErrorBox, Link, Loading } from "../components/Bits.tsx";
import { Editor, type EditorHandle } from "../components/Editor.tsx";
import { remoteWeb, short } from "../format.ts";
import { go } from "../route.ts";
import type { Status, Validation } from "../types.ts";
import { WhoAndWhy, useWhoAndWhy } from "./WhoAndWhy.tsx";

export type Kind = "config" | "group";

const TEMPLATES: Record<Kind, string> = {
  config: `config_name: my-config
agent_type: ilogtail
description: ""
content: |
  inputs:
    - Type: input_file
      FilePaths:
        - /var/log/app/*.log
  flushers:
    - Type: flusher_stdout
`,
  group: `group_name: my-group
description: ""
tags:
  - name: env
    value: prod
configs: []
`,
};

const DIRS: Record<Kind, string> = { config: "configs", group: "agent_groups" };

export function ReadOnlyNotice({ status }: { status: Status }) {
  const web = remoteWeb(status.remote?.url, status.remote?.branch);
  return (
    <p class="notice read-only-notice" role="note">
      This server is read-only: configs and groups change by pull request against the config repository
      {web ? <> (<a href={web.newChange} rel="noreferrer noopener" target="_blank">open a pull request</a>)</> : status.remote ? <> <code>{status.remote.url}</code></> : null}.
      The editor shows the file; nothing can be committed from here.
    </p>
  );
}

export function Edit({ kind, name, status }: { kind: Kind; name: string | undefined; status: Status | undefined }) {
  const [text, setText] = useState<string | undefined>(name ? undefined : TEMPLATES[kind]);
  const [loadError, setLoadError] = useState<Error | undefined>(undefined);
  const [check, setCheck] = useState<Validation | undefined>(undefined);
  const [checkError, setCheckError] = useState<Error | undefined>(undefined);
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const who = useWhoAndWhy();
  const editor = useRef<EditorHandle | null>(null);
  const sequence = useRef(0);
  const readOnly = status?.readOnly ?? true;
  const label = kind === "config" ? "config" : "agent group";

  useEffect(() => {
    setResult(undefined);
    setCheck(undefined);
    if (!name) {
      setText(TEMPLATES[kind]);
      return;
    }
    setText(undefined);
    get<{ text: string }>(`/api/v1/files/${DIRS[kind]}/${q(name)}.yaml`).then((f) => setText(f.text), setLoadError);
  }, [kind, name]);

  const validate = async (t: string): Promise<Validation | undefined> => {
    const mine = ++sequence.current;
    try {
      const v = (await request<Validation>("/api/v1/validate", { method: "POST", body: { kind, text: t, ...(name ? { name } : {}) } })).data as Validation;
      if (mine === sequence.current) {
        setCheck(v);
        setCheckError(undefined);
      }
      return v;
    } catch (e) {
      if (mine === sequence.current) setCheckError(e as Error);
      return undefined;
    }
  };

  // Checked as you type (debounced), with the server's own rules.
  useEffect(() => {
    if (text === undefined) return;
    const timer = setTimeout(() => void validate(text), 300);
    return () => clearTimeout(timer);
  }, [text]);

  const commit = async () => {
    if (text === undefined) return;
    setBusy(true);
    setResult(undefined);
    try {
      const v = await validate(text);
      if (!v) return;
      if (!v.valid) {
        setResult({ ok: false, text: `Not committed: ${v.problems.length} problem${v.problems.length === 1 ? "" : "s"} to fix first.` });
        const first = v.problems[0];
        if (first) editor.current?.goto(first.line);
        return;
      }
      if (!v.changed) {
        setResult({ ok: true, text: "Nothing to commit: the file already says this." });
        return;
      }
      const meta = who.value;
      let target: string;
      if (kind === "config" && v.config) {
        const c = v.config;
        await write(v.exists ? "PUT" : "POST", v.exists ? "/User/UpdateConfig" : "/User/CreateConfig", { configDetail: c }, meta);
        target = c.configName;
      } else if (kind === "group" && v.group) {
        const g = v.group;
        await write("PUT", `/api/v1/groups/${q(g.name)}`, { description: g.description, tags: g.tags, configs: g.configs, instanceConfigs: g.instanceConfigs }, meta);
        target = g.name;
      } else return;
      const s = await get<Status>("/status");
      who.clearMessage();
      setResult({ ok: true, text: `Committed: the server now serves ${short(s.commit)}.` });
      if (!name) go(["edit", kind, target]);
      else {
        // The file as the server wrote it; checked again even when it reads the same as typed.
        const written = (await get<{ text: string }>(`/api/v1/files/${DIRS[kind]}/${q(name)}.yaml`)).text;
        setText(written);
        await validate(written);
      }
    } catch (e) {
      setResult({ ok: false, text: `Not committed: ${(e as Error).message}` });
    } finally {
      setBusy(false);
    }
  };

  const problems = check?.problems ?? [];
  const warnings = check?.warnings ?? [];
  return (
    <div>
      <div class="toolbar">
        <h1>{name ? <>Edit {label} <span class="name">{name}</span></> : `New ${label}`}</h1>
        {name && <Link to={[kind === "config" ? "configs" : "groups", name]}>back to the {label}</Link>}
      </div>
      {status?.readOnly && <ReadOnlyNotice status={status} />}
      <ErrorBox error={loadError} />
      {text === undefined ? !loadError && <Loading what="the file" /> : (
        <form class="edit" onSubmit={(e) => { e.preventDefault(); void commit(); }}>
          <p class="muted">{check?.path ?? `${DIRS[kind]}/${name ?? "…"}.yaml`}: the file as it will be in the repository; it is checked with the server's rules as you type.</p>
          <Editor value={text} onInput={setText} problems={problems} warnings={warnings} readOnly={readOnly} label={`${label} file`} handle={editor} />
          <div class="checks" aria-live="polite">
            <ErrorBox error={checkError} />
            {check && (problems.length === 0 ? <p class="ok validation-ok">Valid{check.changed === false ? ", and the same as the served file" : ""}.</p> : (
              <ul class="problems" aria-label="problems">
                {problems.map((p, i) => <li key={i}><button type="button" class="link problem" onClick={() => editor.current?.goto(p.line)}>line {p.line}, column {p.column}</button>: {p.message}</li>)}
              </ul>
            ))}
            {warnings.length > 0 && <ul class="warnings" aria-label="warnings">{warnings.map((p, i) => <li key={i}><button type="button" class="link" onClick={() => editor.current?.goto(p.line)}>line {p.line}</button>: {p.message}</li>)}</ul>}
          </div>
          <WhoAndWhy state={who} disabled={readOnly} placeholder={name ? `Update ${label} ${name}` : `Create ${label}`} />
          <div class="buttons">
            <button type="submit" class="primary" disabled={readOnly || busy}>Commit</button>
          </div>
          {result && <p class={result.ok ? "ok" : "error"} role="status">{result.text}</p>}
        </form>
      )}
    </div>
  );
}
