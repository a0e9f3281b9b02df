import { DomainError } from "./errors.ts";

/**
 * What one agent request may carry, whatever the body limit: each agent's record keeps what its
 * requests say (tags, reported configs, statistics, alarms), so these bound the memory a single
 * agent id can hold. Checked on decoded requests only (a repeat is byte-identical to one that
 * passed), each in one pass over what it counts. Refused BadRequest (400) with the limit named.
 */
export const AGENT_LIMITS = Object.freeze({
  /** Tags of one agent. */
  tags: 256,
  /** Characters of all its tag names and values together. */
  tagChars: 16 * 1024,
  /** Configs of one kind reported (or asked for) in one request. */
  configs: 2000,
  /** Extra attributes, or extra running statistics, of one agent. */
  extras: 64,
  /** Characters of all extras' names and values together. */
  extraChars: 16 * 1024,
  /** Characters of one alarm's type and detail together (the registry keeps an agent's last 100). */
  alarmChars: 4 * 1024,
});

const refuse = (message: string): never => {
  throw new DomainError("BadRequest", message);
};

/** Named tags (alpha, v2): a mapping of name to value. */
export function checkNamedTags(tags: Readonly<Record<string, string>>): void {
  let n = 0;
  let chars = 0;
  for (const k in tags) {
    n++;
    chars += k.length + (tags[k] as string).length;
  }
  if (n > AGENT_LIMITS.tags) refuse(`The request has ${n} tags; at most ${AGENT_LIMITS.tags} are accepted per agent.`);
  if (chars > AGENT_LIMITS.tagChars) refuse(`The request's tags are ${chars} characters long; at most ${AGENT_LIMITS.tagChars} are accepted per agent.`);
}

/** Tags given as a list: v1's values, or v2's {name, value} pairs (`text` reads one as its characters). */
export function checkTagList<T>(tags: readonly T[], length: (tag: T) => number): void {
  if (tags.length > AGENT_LIMITS.tags) refuse(`The request has ${tags.length} tags; at most ${AGENT_LIMITS.tags} are accepted per agent.`);
  let chars = 0;
  for (const t of tags) chars += length(t);
  if (chars > AGENT_LIMITS.tagChars) refuse(`The request's tags are ${chars} characters long; at most ${AGENT_LIMITS.tagChars} are accepted per agent.`);
}

/** A list of configs reported or asked for, named by its field. */
export function checkConfigCount(count: number, field: string): void {
  if (count > AGENT_LIMITS.configs) refuse(`${field} lists ${count} configs; at most ${AGENT_LIMITS.configs} are accepted in one request.`);
}

/** Extra attributes or statistics (values as stored: text, or bytes whose length is counted). */
export function checkExtras(extras: Readonly<Record<string, { readonly length: number }>> | null | undefined, field: string): void {
  if (!extras) return;
  let n = 0;
  let chars = 0;
  for (const k in extras) {
    n++;
    chars += k.length + (extras[k] as { readonly length: number }).length;
  }
  if (n > AGENT_LIMITS.extras) refuse(`${field} has ${n} entries; at most ${AGENT_LIMITS.extras} are accepted.`);
  if (chars > AGENT_LIMITS.extraChars) refuse(`${field} is ${chars} characters long; at most ${AGENT_LIMITS.extraChars} are accepted.`);
}

/** One alarm: its type and detail. */
export function checkAlarm(type: string, detail: string): void {
  const chars = type.length + detail.length;
  if (chars > AGENT_LIMITS.alarmChars) refuse(`The alarm's type and detail are ${chars} characters long; at most ${AGENT_LIMITS.alarmChars} are accepted (the server keeps each agent's recent alarms).`);
}
