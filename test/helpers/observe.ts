import { waitFor } from "./server.ts";

/**
 * What a black-box test may know about a running server: what it answers over HTTP. `GET /status`
 * says which commit is served and what is wrong; `/api/v1/configs`, `/api/v1/instance-configs`,
 * `/api/v1/groups` and `/api/v1/agents` say what is served and whom the server remembers.
 * These helpers read them (no token: the tests that use them start a server without one).
 */

export interface Problem {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/** Where a problem is, as `validate` prints it: file:line:column. */
export const problemAt = (p: Problem): string => `${p.file}:${p.line}:${p.column}`;

export interface Status {
  readonly commit: string | null;
  readonly configs: number;
  readonly groups: number;
  readonly instanceConfigs: number;
  readonly agents: number;
  readonly writer: { readonly mode: string; readonly reason?: string };
  readonly refused: { readonly commit: string; readonly problems: readonly Problem[] } | null;
  readonly notServable: string | null;
  readonly notForV2: readonly string[];
  readonly dirty: readonly string[];
  readonly lastSync: { readonly at: string; readonly ok: boolean; readonly action: string; readonly error?: string } | null;
}

/** A served config (or instance config) as `/api/v1/configs/<name>` answers it. */
export interface ServedConfig {
  readonly name: string;
  readonly content: string;
  readonly version: number;
  readonly commit: string;
  readonly groups: readonly string[];
  readonly format?: string;
  readonly notForV2: string | null;
}

async function getJson<T>(url: string, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

/** `GET /status`. */
export async function statusOf(url: string): Promise<Status> {
  const { status, body } = await getJson<Status>(url, "/status");
  if (status !== 200) throw new Error(`GET /status answered ${status}`);
  return body;
}

/** The commit the server serves ("" before it serves any). */
export async function servedCommit(url: string): Promise<string> {
  return (await statusOf(url)).commit ?? "";
}

/** Waits until the server serves `commit` (a write, a watched commit or a sync has been loaded). */
export async function waitForCommit(url: string, commit: string): Promise<void> {
  await waitFor(async () => (await servedCommit(url)) === commit);
}

/** Waits until /status reports `commit` refused, and returns the refusal. */
export async function waitForRefused(url: string, commit: string): Promise<NonNullable<Status["refused"]>> {
  return waitFor(async () => {
    const refused = (await statusOf(url)).refused;
    return refused?.commit === commit ? refused : undefined;
  });
}

/** One served config (`kind` "instance" for an instance config), or undefined when the served commit lacks it. */
export async function configOf(url: string, name: string, kind: "pipeline" | "instance" = "pipeline"): Promise<ServedConfig | undefined> {
  const path = kind === "pipeline" ? "/api/v1/configs" : "/api/v1/instance-configs";
  const { status, body } = await getJson<ServedConfig & { code?: string }>(url, `${path}/${encodeURIComponent(name)}`);
  if (status === 404) return undefined;
  if (status !== 200) throw new Error(`GET ${path}/${name} answered ${status}: ${JSON.stringify(body)}`);
  return body;
}

/** The names of the served configs, sorted. */
export async function configNames(url: string, kind: "pipeline" | "instance" = "pipeline"): Promise<string[]> {
  const path = kind === "pipeline" ? "/api/v1/configs" : "/api/v1/instance-configs";
  const { body } = await getJson<Record<string, Array<{ name: string }>>>(url, path);
  return (body[kind === "pipeline" ? "configs" : "instanceConfigs"] ?? []).map((c) => c.name);
}

/** A served group as `/api/v1/groups/<name>` answers it, or undefined. */
export async function groupOf(url: string, name: string): Promise<Record<string, unknown> | undefined> {
  const { status, body } = await getJson<Record<string, unknown>>(url, `/api/v1/groups/${encodeURIComponent(name)}`);
  return status === 200 ? body : undefined;
}

/** An agent as `/api/v1/agents/<id>` answers it, or undefined when the server does not remember it. */
export async function agentOf(url: string, id: string): Promise<(Record<string, unknown> & { protocol: string | null }) | undefined> {
  const { status, body } = await getJson<Record<string, unknown> & { protocol: string | null }>(url, `/api/v1/agents/${encodeURIComponent(id)}`);
  return status === 200 ? body : undefined;
}

/** How many agents the server remembers (live ones: /status counts what the registry holds). */
export async function agentCount(url: string): Promise<number> {
  return (await statusOf(url)).agents;
}

/** Registers agents the way agents do: one alpha heartbeat each over HTTP, `parallel` at a time. */
export async function heartbeatAll(api: { heartbeat(m: object): Promise<{ status: number }> }, messages: readonly object[], parallel = 32): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < messages.length) {
      const m = messages[next++] as object;
      const r = await api.heartbeat(m);
      if (r.status !== 200) throw new Error(`heartbeat answered ${r.status}: ${JSON.stringify(m)}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** Which of these agent ids the server remembers (with or without a heartbeat): after bad input, none should be. */
export async function remembered(url: string, ids: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) if (await agentOf(url, id)) out.push(id);
  return out;
}

/** A served config's version (undefined when the served commit lacks it). */
export async function versionOf(url: string, name: string, kind: "pipeline" | "instance" = "pipeline"): Promise<number | undefined> {
  return (await configOf(url, name, kind))?.version;
}
