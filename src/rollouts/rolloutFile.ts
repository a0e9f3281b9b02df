import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { RolloutRecord } from "./rolloutRecord.ts";
import { revived } from "./sharedRollouts.ts";

const FORMAT = 1;

/**
 * The rollouts' state file, inside the repository's .git (never committed): replaced atomically
 * (a temporary file renamed over it), so a crash leaves the last complete state, never half of one.
 */
export class RolloutFile {
  constructor(readonly path: string) {}

  load(): RolloutRecord[] {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch {
      return [];
    }
    const saved = JSON.parse(text) as { format?: number; rollouts?: RolloutRecord[] };
    if (saved.format !== FORMAT || !Array.isArray(saved.rollouts)) throw new Error(`${this.path} is not a rollout state file this server reads (format ${String(saved.format)})`);
    return revived(saved.rollouts);
  }

  save(rollouts: readonly RolloutRecord[]): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, JSON.stringify({ format: FORMAT, rollouts }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
