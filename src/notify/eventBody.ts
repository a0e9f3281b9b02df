import { formatProblem } from "../problemFormat.ts";
import type { NotifyEvent, RolloutSubject } from "./events.ts";

/** Who sends: receivers fed by several replicas (or servers) tell them apart by this. */
export interface ServerIdentity {
  readonly host: string;
  readonly pid: number;
}

/** The JSON POSTed for one event: its fields, plus when, who and a line of text for people. */
export type EventBody = NotifyEvent & {
  readonly time: string;
  readonly server: ServerIdentity;
  readonly text: string;
  /** commit.refused: how many problems there were (the body lists at most MAX_PROBLEMS). */
  readonly problemsTotal?: number;
  /** rollout.halted: how many failure groups there were (the body lists at most MAX_FAILURE_GROUPS). */
  readonly failureGroupsTotal?: number;
};

/** A refused commit can have thousands of problems: the body keeps this many (and says how many there were). */
export const MAX_PROBLEMS = 50;
/** Failure groups in a halted event's body. */
export const MAX_FAILURE_GROUPS = 20;
/** Lines of detail (problems, failure groups) and agents per group in the text: a chat message stays readable. */
const TEXT_LINES = 10;
const TEXT_AGENTS = 5;

const short = (commit: string) => commit.slice(0, 12);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const what = (s: RolloutSubject) => `${s.kind === "instance" ? "instance config" : "config"} ${s.name}`;
const version = (v: { version: number; commit: string }) => `version ${v.version} (commit ${short(v.commit)})`;
const from = (s: RolloutSubject) => (s.from ? `version ${s.from.version}` : "nothing (a new config)");
/** The first `max` lines and how many more there were. */
const listed = (lines: readonly string[], max: number) => [...lines.slice(0, max), ...(lines.length > max ? [`… and ${lines.length - max} more`] : [])];

/**
 * The event in words, as Slack- and Mattermost-compatible receivers show a `text` field: what
 * happened, to which config or commit, and what the server does next. It reads well without a
 * failure message (today's agents send none): the failure's reason names the agents.
 */
export function eventText(e: NotifyEvent): string {
  switch (e.type) {
    case "rollout.started":
      return `Rollout of ${what(e)} started: ${version(e.to)} in ${plural(e.waves, "wave")}; agents outside the current wave keep ${from(e)}.`;
    case "rollout.wave_advanced":
      return `Rollout of ${what(e)} advanced to wave ${e.wave} of ${e.waves}: ${version(e.to)}.`;
    case "rollout.halted": {
      const failed = e.failures.reduce((n, g) => n + g.count, 0);
      const next = e.onHalt === "pause"
        ? "paused: resume, promote or abort it (configserver rollout, or the console's Rollouts page)"
        : e.revertPending !== undefined
          ? `revert pending: ${from(e)} is served to every agent again, but the server cannot commit the revert (${e.revertPending.replace(/^revert pending: /, "").replace(/ \(.*$/, "")}): commit it to the repository`
          : `reverting to ${from(e)}`;
      const groups = e.failures.map((g) => {
        const more = g.count > Math.min(g.agents.length, TEXT_AGENTS) ? `, … ${g.count - Math.min(g.agents.length, TEXT_AGENTS)} more` : "";
        return `- ${plural(g.count, "agent")}: ${g.reason} (${g.agents.slice(0, TEXT_AGENTS).join(", ")}${more})`;
      });
      return [`Rollout of ${what(e)} halted at wave ${e.wave}, ${version(e.to)}: ${e.reason}. ${plural(failed, "agent")} failed; ${next}.`, ...listed(groups, TEXT_LINES)].join("\n");
    }
    case "rollout.reverted":
      return `Rollout of ${what(e)} reverted at wave ${e.wave}: commit ${short(e.revertCommit)} puts back ${from(e)} in place of ${version(e.to)}; agents that never received it receive nothing.`;
    case "rollout.completed":
      return `Rollout of ${what(e)} completed: ${version(e.to)} reached every agent (${plural(e.waves, "wave")}).`;
    case "commit.refused": {
      const still = e.served ? `still serving commit ${short(e.served)}` : "no valid commit is served: agents are answered ServerBusy until one arrives";
      const lines = e.problems.map((p) => `- ${formatProblem(p)}`);
      return [`Commit ${short(e.commit)} refused by validation (${plural(e.problems.length, "problem")}); ${still}.`, ...listed(lines, TEXT_LINES)].join("\n");
    }
  }
}

/** The body of one event: `type`, `time`, `server` and `text` first, then the event's fields, lists bounded. */
export function eventBody(e: NotifyEvent, server: ServerIdentity, at: number): EventBody {
  const { type, ...fields } = e;
  const text = eventText(e);
  const time = new Date(at).toISOString();
  const bounded = e.type === "commit.refused"
    ? { ...fields, problems: e.problems.slice(0, MAX_PROBLEMS), problemsTotal: e.problems.length }
    : e.type === "rollout.halted"
      ? { ...fields, failures: e.failures.slice(0, MAX_FAILURE_GROUPS), failureGroupsTotal: e.failures.length }
      : fields;
  return { type, time, server, text, ...bounded } as EventBody;
}
