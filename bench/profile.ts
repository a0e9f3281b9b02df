// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, and total (inclusive)
// time for functions of this project.
// Run: node --import tsx bench/profile.ts FILE.cpuprofile [top=25]
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

export function summarise(file: string, top = 25): string {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    total += dt;
  });
  const label = (n: Node) => {
    const url = n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|src|bench|dist)\//, "$1/").replace(/^node:/, "node:");
    return `${n.callFrame.functionName || "(anonymous)"} ${url}${url ? `:${n.callFrame.lineNumber + 1}` : ""}`;
  };
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id) as Node;
    self.set(label(n), (self.get(label(n)) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur) as Node);
      if (seen.has(l)) continue;
      seen.add(l);
      incl.set(l, (incl.get(l) ?? 0) + us);
    }
  }
  const fmt = (m: Map<string, number>, filter: (l: string) => boolean) =>
    [...m].filter(([l]) => filter(l)).sort((a, b) => b[1] - a[1]).slice(0, top).map(([l, us]) => `${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${l}`).join("\n");
  const idle = [...self].filter(([l]) => l.startsWith("(idle)")).reduce((a, [, us]) => a + us, 0);
  return `${file}: ${(total / 1000).toFixed(0)} ms sampled, ${((total - idle) / 1000).toFixed(0)} ms not idle\n\nself time:\n${fmt(self, () => true)}\n\ninclusive, project code:\n${fmt(incl, (l) => / (src|bench|dist)\//.test(l))}\n`;
}

if (process.argv[1]?.endsWith("profile.ts")) {
  for (const f of process.argv.slice(2).filter((a) => a.endsWith(".cpuprofile"))) console.log(summarise(f, Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 25)));
}
