import { render } from "preact";
import { useState } from "preact/hooks";
import { authNeeded, token } from "./api.ts";
import { Dialog } from "./components/Dialog.tsx";
import { short } from "./format.ts";
import { usePoll } from "./poll.ts";
import { href, useRoute, type Route } from "./route.ts";
import { useSignal } from "./signal.ts";
import type { Status } from "./types.ts";
import { AgentDetail, Agents } from "./pages/Agents.tsx";
import { ConfigDetail } from "./pages/ConfigDetail.tsx";
import { Configs } from "./pages/Configs.tsx";
import { Edit, type Kind } from "./pages/Edit.tsx";
import { GroupDetail, Groups } from "./pages/Groups.tsx";
import { Overview } from "./pages/Overview.tsx";
import { Rollouts } from "./pages/Rollouts.tsx";

function Login() {
  const reason = useSignal(authNeeded);
  const [value, setValue] = useState("");
  return (
    <Dialog open={reason !== undefined} title="Sign in" required onClose={() => undefined}>
      <form class="login" onSubmit={(e) => { e.preventDefault(); if (value) token.set(value); setValue(""); }}>
        <p>{reason}</p>
        <p class="muted">The token is kept in this browser tab only and sent as a bearer header.</p>
        <label>User token <input type="password" name="token" autocomplete="current-password" value={value} onInput={(e) => setValue(e.currentTarget.value)} required /></label>
        <div class="buttons"><button type="submit" class="primary">Sign in</button></div>
      </form>
    </Dialog>
  );
}

const NAV = [
  ["", "Overview"],
  ["configs", "Configs"],
  ["groups", "Groups"],
  ["agents", "Agents"],
  ["rollouts", "Rollouts"],
] as const;

function Page({ route, status }: { route: Route; status: Status | undefined }) {
  const [page, name] = route.parts;
  switch (page) {
    case undefined:
      return <Overview status={status} />;
    case "configs":
      return name ? <ConfigDetail key={name} name={name} status={status} diff={route.query.get("diff") ?? undefined} /> : <Configs status={status} />;
    case "instance-configs":
      return name ? <ConfigDetail key={`i:${name}`} kind="instance" name={name} status={status} diff={route.query.get("diff") ?? undefined} /> : <Configs status={status} />;
    case "rollouts":
      return <Rollouts key={name ?? ""} name={name} status={status} />;
    case "groups":
      return name ? <GroupDetail key={name} name={name} status={status} /> : <Groups status={status} />;
    case "agents":
      return name ? <AgentDetail key={name} id={name} /> : <Agents route={route} />;
    case "edit": {
      const kind = name === "group" ? "group" : name === "config" ? "config" : undefined;
      if (kind) return <Edit key={`${kind}/${route.parts[2] ?? ""}`} kind={kind as Kind} name={route.parts[2]} status={status} />;
      break;
    }
  }
  return <p>No such page. <a href="#/">Overview</a></p>;
}

function App() {
  const route = useRoute();
  const status = usePoll<Status>("/status");
  const s = status.data;
  const signedIn = token.get() !== "";
  return (
    <>
      <header>
        <a class="brand" href="#/">configserver</a>
        <nav aria-label="main">
          {NAV.map(([to, label]) => <a key={to} href={href(to ? [to] : [])} aria-current={(route.parts[0] ?? "") === to ? "page" : undefined}>{label}</a>)}
        </nav>
        <span class="served" title={s?.commit ?? ""}>{s ? <>serving <code>{short(s.commit)}</code></> : ""}{s?.readOnly && <span class="badge s-warn">read-only</span>}{s?.refused && <span class="badge s-failed">HEAD refused</span>}</span>
        {signedIn && <button type="button" class="link" onClick={() => { token.clear(); location.reload(); }}>Sign out</button>}
      </header>
      <main>
        {status.error && !(status.error as { status?: number }).status && <p class="error" role="alert">The server does not answer: {status.error.message}</p>}
        <Page route={route} status={s} />
      </main>
      <Login />
    </>
  );
}

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
}
