import type { RolloutRecord } from "./rolloutRecord.ts";

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** A rollout as the API shows it (GET /api/v1/rollouts): plain JSON, times as ISO 8601. */
export function rolloutView(r: RolloutRecord) {
  const p = r.progress;
  return {
    config: r.name,
    kind: r.kind,
    from: r.from ? { version: r.from.version, commit: r.from.commit } : null,
    to: r.to,
    state: p.status,
    mode: r.mode,
    wave: p.wave,
    waves: (r.waves ?? []).map(({ wave, text, targeted, applied, applying, failed, notReported, gone }) => ({ wave, text, targeted, applied, applying, failed, notReported, gone })),
    failures: (r.failures ?? []).map(({ kind, message, reason, count, agents }) => ({ kind, message, reason, count, agents })),
    haltReason: p.haltReason ?? null,
    revertCommit: r.revertCommit ?? null,
    revertPending: r.revertPending ?? null,
    received: Object.keys(r.received).length,
    startedAt: iso(p.startedAt),
    waveStartedAt: iso(p.waveStartedAt),
    appliedAt: iso(p.appliedAt),
    endedAt: iso(p.endedAt),
    history: r.history.map((e) => ({ at: iso(e.at), who: e.who, action: e.action, detail: e.detail ?? null })),
  };
}
