/** How many delivery ids are remembered: providers retry within minutes, not after thousands of pushes. */
const REMEMBERED = 1000;
/** Longer ids are not remembered (providers send UUIDs): the memory stays bounded in bytes too. */
const MAX_ID_LENGTH = 128;

/** The delivery id a provider sends with every webhook (the same on a redelivery). */
export function deliveryId(headers: Record<string, string | string[] | undefined>): string | undefined {
  for (const name of ["x-github-delivery", "x-gitea-delivery", "x-gitlab-event-uuid"]) {
    const v = headers[name];
    if (typeof v === "string" && v !== "" && v.length <= MAX_ID_LENGTH) return `${name}:${v}`;
  }
  return undefined;
}

/**
 * The delivery ids of verified webhooks seen recently, oldest forgotten first: a redelivery (the
 * provider retrying, a person pressing "redeliver", a replayed request) is answered, not acted on.
 */
export class WebhookDeliveries {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = REMEMBERED) {}

  /** True the first time an id is seen (and remembers it); false for a repeat. */
  firstTime(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.values().next().value as string);
    return true;
  }
}
