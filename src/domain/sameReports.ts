import type { ConfigReport } from "./agent.ts";

/** Whether two report lists say the same (same configs, in the same order, with the same version, status and message). */
export function sameReports(a: readonly ConfigReport[], b: readonly ConfigReport[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as ConfigReport;
    const y = b[i] as ConfigReport;
    if (x !== y && (x.name !== y.name || x.version !== y.version || x.status !== y.status || x.message !== y.message)) return false;
  }
  return true;
}
