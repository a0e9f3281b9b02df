import type { NotifyEvent, RolloutSubject } from "../notify/events.ts";
import type { RolloutEvent, RolloutRecord } from "./rolloutRecord.ts";

/**
 * The history entries `after` has that `before` had not. History only grows while a rollout goes
 * on (entries are kept by reference), so the entries past `before`'s last one are the new ones; a
 * record that does not continue `before` (a newer commit superseded it) is new as a whole.
 */
function newEntries(before: RolloutRecord | undefined, after: RolloutRecord): readonly RolloutEvent[] {
  if (!before || before.history.length === 0) return after.history;
  const last = before.history[before.history.length - 1];
  const at = after.history.lastIndexOf(last as RolloutEvent);
  return at < 0 ? after.history : after.history.slice(at + 1);
}

/**
 * The --notify-url events a change of one rollout announces, in the order its history recorded
 * them. `waves`: how many waves its policy has; `onHalt`: what a halt does next. An abort is a halt
 * that reverts; a promote that jumps waves is announced as the wave it reached.
 */
export function rolloutNotices(before: RolloutRecord | undefined, after: RolloutRecord, waves: number, onHalt: "revert" | "pause"): NotifyEvent[] {
  const subject: RolloutSubject = { kind: after.kind, name: after.name, to: after.to, from: after.from ? { version: after.from.version, commit: after.from.commit } : undefined };
  const p = after.progress;
  const out: NotifyEvent[] = [];
  for (const e of newEntries(before, after)) {
    switch (e.action) {
      case "started":
        out.push({ ...subject, type: "rollout.started", waves });
        break;
      case "advanced":
        out.push({ ...subject, type: "rollout.wave_advanced", wave: Number(/to wave (\d+)/.exec(e.detail ?? "")?.[1] ?? p.wave), waves });
        break;
      case "promote":
        if (p.wave > (before?.progress.wave ?? 0)) out.push({ ...subject, type: "rollout.wave_advanced", wave: p.wave, waves });
        break;
      case "halted":
      case "abort":
        out.push({ ...subject, type: "rollout.halted", wave: p.wave, reason: e.action === "abort" ? `aborted by ${e.who}` : (e.detail ?? p.haltReason ?? "halted"), onHalt: e.action === "abort" ? "revert" : onHalt, ...(after.revertPending ? { revertPending: after.revertPending } : {}), failures: after.failures ?? [] });
        break;
      case "reverted":
        // Without a commit (the content already was the previous one) there is nothing to point at.
        if (after.revertCommit) out.push({ ...subject, type: "rollout.reverted", wave: p.wave, revertCommit: after.revertCommit });
        break;
      case "completed":
        out.push({ ...subject, type: "rollout.completed", waves });
        break;
      default:
        break;
    }
  }
  return out;
}
