import { send } from "./client.ts";

/** Prometheus samples by name and labels, as `/metrics` answers them. */
export type Samples = Map<string, number>;

const LABEL = String.raw`[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"`;
const SAMPLE = new RegExp(String.raw`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:${LABEL}(?:,${LABEL})*)?\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|[Nn]a[Nn]|\+Inf|-Inf))$`);

/** Parses the Prometheus text format strictly: every line must be a comment or a valid sample. */
export function parse(text: string): Samples {
  const samples: Samples = new Map();
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === "TYPE") {
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(meta[3] as string)) throw new Error(`bad TYPE: ${line}`);
        types.set(meta[2] as string, meta[3] as string);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    const family = (m[1] as string).replace(/_(bucket|sum|count)$/, "");
    if (!types.has(m[1] as string) && !types.has(family)) throw new Error(`sample without TYPE: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ""}`, Number(m[3]));
  }
  return samples;
}

export async function scrape(url: string): Promise<Samples> {
  const r = await send(url, "GET", "/metrics", "");
  if (r.status !== 200) throw new Error(`GET /metrics: ${r.status}`);
  if (!String(r.headers["content-type"]).startsWith("text/plain")) throw new Error(`content-type ${r.headers["content-type"]}`);
  return parse(r.body.toString());
}

export const get = (s: Samples, key: string) => s.get(key) ?? 0;
