/**
 * Records in agent-id order for listings, kept between calls and merged with the records added
 * since (a sorted prefix plus a short tail sorts in about linear time), so a listing of 200,000
 * agents does not sort 200,000 strings each time. Dropped records (marked `dropped`) are skipped
 * by the caller and compacted away here.
 */
export class IdOrder<E extends { readonly agentId: string; dropped?: true }> {
  private order: E[] = [];
  private added: E[] = [];

  add(e: E): void {
    this.added.push(e);
  }

  clear(): void {
    this.order = [];
    this.added = [];
  }

  /** Every record in id order; `live` is how many are not dropped (compacts when most are). */
  sorted(live: number): readonly E[] {
    if (this.added.length > 0 || this.order.length > live * 2) {
      const kept = this.order.concat(this.added).filter((e) => e.dropped === undefined);
      this.order = kept.sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
      this.added = [];
    }
    return this.order;
  }
}
