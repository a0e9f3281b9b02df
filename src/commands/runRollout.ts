import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { RolloutFile } from "../rollouts/rolloutFile.ts";
import { rolloutView } from "../rollouts/rolloutView.ts";
import { CliError } from "./cliError.ts";
import { findRepository, type RepositoryFlags } from "./findRepository.ts";

export interface RolloutCliOptions extends RepositoryFlags {
  readonly server?: string;
  readonly token?: string;
  readonly json?: boolean;
  readonly author?: string;
}

type View = ReturnType<typeof rolloutView>;

async function request(o: RolloutCliOptions & { server: string }, method: string, path: string): Promise<Record<string, unknown>> {
  const url = `${o.server.replace(/\/+$/, "")}${path}`;
  const headers: Record<string, string> = { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(o.author ? { "x-configserver-author": o.author } : {}) };
  let res: Response;
  try {
    // An action has no parameters: an empty JSON object, as the API's writes take JSON.
    res = await fetch(url, method === "POST" ? { method, headers: { ...headers, "content-type": "application/json" }, body: "{}" } : { method, headers });
  } catch (e) {
    throw new CliError(`could not reach ${url}: ${(e as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new CliError(`${url} answered ${res.status}: ${String(body.message ?? "no message")}`);
  return body;
}

/** Rollouts from a server, or from the state file a server keeps in the repository's .git (--repo). */
async function rollouts(o: RolloutCliOptions): Promise<View[]> {
  if (o.server !== undefined) return (await request({ ...o, server: o.server }, "GET", "/api/v1/rollouts")).rollouts as View[];
  const root = await findRepository(o);
  const gitDir = execFileSync("git", ["rev-parse", "--absolute-git-dir"], { cwd: root, encoding: "utf8" }).trim();
  return new RolloutFile(join(gitDir, "configserver", "rollouts.json")).load().map(rolloutView);
}

function line(r: View): string {
  const counts = r.waves.length > 0 ? `; applied ${r.waves.reduce((n, w) => n + w.applied, 0)}/${r.waves.reduce((n, w) => n + w.targeted, 0)}, failed ${r.waves.reduce((n, w) => n + w.failed, 0)}` : "";
  return `${r.config}${r.kind === "instance" ? " (instance config)" : ""}: version ${r.from?.version ?? "none"} -> ${r.to.version === -1 ? "removed" : r.to.version}, ${r.state}, wave ${r.wave}${r.waves.length ? ` of ${r.waves.length}` : ""}${counts}${r.revertPending ? ` (${r.revertPending})` : ""}`;
}

function details(r: View): string {
  const out = [line(r)];
  for (const w of r.waves) out.push(`  wave ${w.wave} (${w.text}): ${w.targeted} targeted, ${w.applied} applied, ${w.applying} applying, ${w.failed} failed, ${w.notReported} not reported`);
  if (r.haltReason) out.push(`  ${r.haltReason}`);
  for (const f of r.failures) out.push(`  failed: ${f.count} ${f.reason}: ${f.agents.join(", ")}`);
  if (r.revertCommit) out.push(`  revert commit ${r.revertCommit}`);
  for (const e of r.history) out.push(`  ${e.at} ${e.who}: ${e.action}${e.detail ? ` (${e.detail})` : ""}`);
  return out.join("\n");
}

export async function listRollouts(o: RolloutCliOptions): Promise<string> {
  const list = await rollouts(o);
  if (o.json) return JSON.stringify(list, null, 2);
  return list.length === 0 ? "No rollouts." : list.map(line).join("\n");
}

export async function showRollout(name: string, o: RolloutCliOptions): Promise<string> {
  const r = o.server !== undefined ? ((await request({ ...o, server: o.server }, "GET", `/api/v1/rollouts/${encodeURIComponent(name)}`)) as unknown as View) : (await rollouts(o)).find((x) => x.config === name);
  if (!r) throw new CliError(`no rollout of config ${name}`);
  return o.json ? JSON.stringify(r, null, 2) : details(r);
}

export async function actOnRollout(name: string, action: "pause" | "resume" | "promote" | "abort", o: RolloutCliOptions & { server: string }): Promise<string> {
  const r = (await request(o, "POST", `/api/v1/rollouts/${encodeURIComponent(name)}/${action}`)) as unknown as View;
  return o.json ? JSON.stringify(r, null, 2) : `${String((r as unknown as { message?: string }).message ?? action)}: ${line(r)}`;
}
