import { callJson } from "./client.ts";

/** A rollout as GET /api/v1/rollouts/<config> shows it (the fields the tests read). */
export interface WaveJson { wave: number; text: string; targeted: number; applied: number; applying: number; failed: number; notReported: number }
export interface RolloutJson {
  config: string;
  state: string;
  wave: number;
  mode: string;
  from: { version: number; commit: string } | null;
  to: { version: number; commit: string };
  waves: WaveJson[];
  failures: { kind: string; message: string; reason: string; count: number; agents: string[] }[];
  haltReason: string | null;
  revertCommit: string | null;
  revertPending: string | null;
  startedAt: string;
  history: { at: string; who: string; action: string; detail: string | null }[];
}

/** The documented bucket of an agent for a config: FNV-1a of `instance id NUL config name` mod 10,000. */
export function bucket(id: string, name: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(`${id}\0${name}`, "utf8")) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h % 10_000;
}

/** The rollout of config `name`, or undefined (404). */
export async function rolloutOf(url: string, name = "app"): Promise<RolloutJson | undefined> {
  const r = await callJson(url, "GET", `/api/v1/rollouts/${name}`);
  return r.status === 200 ? (r.body as unknown as RolloutJson) : undefined;
}
