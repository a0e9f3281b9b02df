import { isMap, isScalar, isSeq, type Node } from "yaml";
import { parseHostnameGlob, parseIpSelector, type IpSelector } from "../../domain/addressMatch.ts";
import type { Pos, Tag } from "../../domain/types.ts";

/** What the selector readers need from a file being read: where a node is, and a way to report. */
export interface NodeReader {
  pos(node: Node | null | undefined): Pos;
  problem(at: Pos, message: string): void;
}

/** Most entries in one `ips:` or `hostnames:` list: selectors are for ranges and patterns, not inventories. */
export const MAX_SELECTOR_ENTRIES = 1000;

const isNull = (node: unknown) => node == null || (isScalar(node) && node.value == null);

/** The items of a list field; anything else is reported at its place and reads as empty. */
function items(r: NodeReader, node: unknown, key: string, what: string): Node[] {
  if (isNull(node)) return [];
  if (!isSeq(node)) {
    r.problem(r.pos(node as Node), `field ${JSON.stringify(key)} must be a list of ${what}`);
    return [];
  }
  if (node.items.length > MAX_SELECTOR_ENTRIES) {
    r.problem(r.pos(node as Node), `field ${JSON.stringify(key)} has ${node.items.length} entries; at most ${MAX_SELECTOR_ENTRIES} (use ranges, CIDRs or patterns)`);
    return [];
  }
  return node.items as Node[];
}

/** An `ips:` list: addresses, ranges and CIDRs, each problem at its entry. */
export function readIps(r: NodeReader, node: unknown, key = "ips"): IpSelector[] {
  const out: IpSelector[] = [];
  for (const item of items(r, node, key, "addresses, ranges or CIDRs")) {
    if (!isScalar(item) || typeof item.value !== "string") {
      r.problem(r.pos(item), `each entry of ${key} must be an address, a range or a CIDR written as text (10.0.0.7, 10.0.0.1-10.0.0.254, 10.1.0.0/16)`);
      continue;
    }
    const s = parseIpSelector(item.value);
    if ("problem" in s) r.problem(r.pos(item), s.problem);
    else out.push(s);
  }
  return out;
}

/** A `hostnames:` list: host names or globs (`web-*`, `*.prod.example.com`), lower-cased. */
export function readHostnames(r: NodeReader, node: unknown, key = "hostnames"): string[] {
  const out: string[] = [];
  for (const item of items(r, node, key, "host names or patterns")) {
    if (!isScalar(item) || typeof item.value !== "string") {
      r.problem(r.pos(item), `each entry of ${key} must be a host name or a pattern such as web-* (text)`);
      continue;
    }
    const g = parseHostnameGlob(item.value);
    if (typeof g !== "string") r.problem(r.pos(item), g.problem);
    else out.push(g);
  }
  return out;
}

/** A tag selector written as a mapping `{env: staging, role: web}`: name to value, both text. */
export function readTagMap(r: NodeReader, node: unknown, key: string): Tag[] {
  if (!isMap(node)) {
    r.problem(r.pos(node as Node), `${key} must be a mapping of tag names to values, such as {env: staging}`);
    return [];
  }
  const out: Tag[] = [];
  for (const pair of node.items) {
    const name = isScalar(pair.key) ? pair.key.value : undefined;
    if (typeof name !== "string" || name === "") {
      r.problem(r.pos(pair.key as Node), `a tag name in ${key} must be non-empty text`);
      continue;
    }
    if (!isScalar(pair.value) || typeof pair.value.value !== "string") {
      r.problem(r.pos((pair.value ?? pair.key) as Node), `the value of tag ${JSON.stringify(name)} must be text (quote it if it looks like a number or boolean)`);
      continue;
    }
    out.push({ name, value: pair.value.value });
  }
  if (node.items.length === 0) r.problem(r.pos(node as Node), `${key} is empty: name at least one tag`);
  return out;
}
