// Where two servers' instructions per request differ, function by function: the callgrind dumps
// bench/instructions.ts keeps (BENCH_KEEP), with JIT code (callgrind knows it only by address)
// named from V8's symbol map kept beside each dump. JavaScript functions are matched across
// checkouts by name and file without line numbers or the checkout's path.
// BENCH_INCLUSIVE=<regex>: see the end. Callers and callees of one function: callgrind_annotate --tree=calling <dump>.
// Run: node --import tsx bench/callgrindDiff.ts <requests per dump> <A dump>[,<A dump>…] <B dump>[,<B dump>…] [rows=40]
//   → per function: instructions per request in A and B (mean of the dumps), B − A, largest first.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

const REQUESTS = Number(process.argv[2]);
const A = (process.argv[3] ?? "").split(",");
const B = (process.argv[4] ?? "").split(",");
const ROWS = Number(process.argv[5] ?? 40);

/** JIT code ranges of a symbol map, sorted by start. */
function symbols(file: string): { start: number; end: number; name: string }[] {
  if (!existsSync(file)) return [];
  const out = readFileSync(file, "utf8").split("\n").map((l) => {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(l);
    return m ? { start: parseInt(m[1] as string, 16), end: parseInt(m[1] as string, 16) + parseInt(m[2] as string, 16), name: m[3] as string } : undefined;
  }).filter((x) => x !== undefined);
  return out.sort((x, y) => x.start - y.start);
}

function resolve(map: ReturnType<typeof symbols>, address: number): string | undefined {
  let lo = 0;
  let hi = map.length - 1;
  let found: string | undefined;
  // The last range starting at or before the address that contains it (code is reused after GC: the later entry wins).
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = map[mid] as (typeof map)[number];
    if (s.start <= address) {
      if (address < s.end) found = s.name;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** A name comparable across checkouts: no checkout path, no line and column. */
const canonical = (name: string) => name.replace(/file:\/\/\/\S*?\/dist\//g, "dist/").replace(/:\d+:\d+$/, "").replace(/^(JS:)?[*~^+-]?/, "JS:");

/**
 * The collector's and the optimizing compiler's work come in bursts (a major collection, a
 * function optimized again): whether one falls in the counted window varies from run to run, so
 * they are totalled apart from the rest (the requests' own work).
 */
const CATEGORIES = ["requests", "gc", "compiler"] as const;
type Category = (typeof CATEGORIES)[number];
function category(name: string): Category {
  if (/v8::internal::compiler::|maglev|Maglev|Turbofan|TurboFan|OptimizedCompilationJob|PipelineImpl|Zone::|RegisterAllocat/.test(name)) return "compiler";
  if (/Marking|Sweep|Scaveng|Evacuat|Heap::|MemoryChunk|ActiveSystemPages|SizeFromMap|IteratePointers|RememberedSet|SlotSet|Mark(Compact|Bit)|ConcurrentMarking|GCTracer|free_pages|PagedSpace|FreeList|MemoryAllocator|madvise|munmap|mmap/.test(name)) return "gc";
  return "requests";
}

function perFunction(dump: string, inclusive = false): Map<string, number> {
  const map = symbols(`${dump}.map`);
  const text = execFileSync("callgrind_annotate", [`--inclusive=${inclusive ? "yes" : "no"}`, "--threshold=100", dump], { encoding: "utf8", maxBuffer: 1 << 28 });
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^\s*([\d,]+) \([\s\d.]+%\)\s+(.*)$/.exec(line);
    if (!m || (m[2] as string).includes("PROGRAM TOTALS")) continue;
    const ir = Number((m[1] as string).replace(/,/g, ""));
    let name = (m[2] as string).replace(/^\S*?:/, "").replace(/ \[.*\]$/, "");
    const address = /^0x([0-9a-f]+)$/.exec(name);
    if (address) name = canonical(resolve(map, parseInt(address[1] as string, 16)) ?? "JIT (unresolved)");
    else name = name.replace(/\(.*$/, "").replace(/'\d+$/, "");
    out.set(name, (out.get(name) ?? 0) + ir);
  }
  return out;
}

function mean(dumps: string[], inclusive = false): Map<string, number> {
  const sum = new Map<string, number>();
  for (const d of dumps) for (const [k, v] of perFunction(d, inclusive)) sum.set(k, (sum.get(k) ?? 0) + v / REQUESTS / dumps.length);
  return sum;
}

const a = mean(A);
const b = mean(B);
const total = (m: Map<string, number>, only?: Category) => [...m].filter(([k]) => only === undefined || category(k) === only).reduce((x, [, y]) => x + y, 0);
console.log(`instructions per request: A ${Math.round(total(a))}, B ${Math.round(total(b))}, B − A ${Math.round(total(b) - total(a))}`);
for (const c of CATEGORIES) console.log(`  ${c}: A ${Math.round(total(a, c))}, B ${Math.round(total(b, c))}, B − A ${Math.round(total(b, c) - total(a, c))}`);
const rows = [...new Set([...a.keys(), ...b.keys()])].map((k) => ({ k, a: a.get(k) ?? 0, b: b.get(k) ?? 0 })).sort((x, y) => Math.abs(y.b - y.a) - Math.abs(x.b - x.a));
for (const r of rows.slice(0, ROWS)) console.log(`${Math.round(r.a).toString().padStart(7)} ${Math.round(r.b).toString().padStart(7)} ${(r.b - r.a >= 0 ? "+" : "") + Math.round(r.b - r.a).toString().padStart(6)}  ${r.k}`);

// BENCH_INCLUSIVE=<regular expression>: also the inclusive instructions per request (the function
// and everything it calls) of the functions whose names match, e.g. "dist/protocols/" — steadier
// than self counts, which move with what the compiler inlines where.
const INCLUSIVE = process.env.BENCH_INCLUSIVE;
if (INCLUSIVE) {
  const pattern = new RegExp(INCLUSIVE);
  const ia = mean(A, true);
  const ib = mean(B, true);
  console.log(`inclusive, functions matching /${INCLUSIVE}/:`);
  const names = [...new Set([...ia.keys(), ...ib.keys()])].filter((k) => pattern.test(k)).sort((x, y) => (ib.get(y) ?? ia.get(y) ?? 0) - (ib.get(x) ?? ia.get(x) ?? 0));
  for (const k of names) console.log(`${Math.round(ia.get(k) ?? 0).toString().padStart(7)} ${Math.round(ib.get(k) ?? 0).toString().padStart(7)}  ${k}`);
}
