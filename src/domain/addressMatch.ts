/**
 * Address and host name selectors (agent groups' `ips:` and `hostnames:`, rollout waves'
 * `{ips: [...]}`). Parsed once when a file is read, into plain data: the snapshot goes to worker
 * processes as JSON, so nothing here holds a bigint or a class.
 */

/** An IPv4 range, both ends included, as unsigned 32-bit numbers. */
export interface Ipv4Range {
  readonly text: string;
  readonly family: 4;
  readonly lo: number;
  readonly hi: number;
}

/** An IPv6 network: the first `bits` bits of `words` (eight 16-bit groups). */
export interface Ipv6Network {
  readonly text: string;
  readonly family: 6;
  readonly words: readonly number[];
  readonly bits: number;
}

export type IpSelector = Ipv4Range | Ipv6Network;

/** Longest selector or host name accepted: host names are at most 253 characters (RFC 1035). */
export const MAX_SELECTOR_LENGTH = 253;

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** An IPv4 address as an unsigned number; leading zeros are refused (some tools read them as octal). */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!OCTET.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** An IPv6 address as eight 16-bit groups (`::` and a dotted IPv4 tail accepted; no zone). */
export function parseIpv6(text: string): number[] | undefined {
  if (text.length > 45 || !text.includes(":")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as string;
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIpv4(p);
        if (v4 === undefined) return undefined;
        out.push(Math.floor(v4 / 65536), v4 % 65536);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const fill = 8 - head.length - tail.length;
  if (fill < 1) return undefined;
  return [...head, ...new Array<number>(fill).fill(0), ...tail];
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it carries. */
function mappedIpv4(words: readonly number[]): number | undefined {
  for (let i = 0; i < 5; i++) if (words[i] !== 0) return undefined;
  if (words[5] !== 0xffff) return undefined;
  return (words[6] as number) * 65536 + (words[7] as number);
}

const formatIpv4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

/**
 * One `ips:` entry: an address (`10.0.0.7`), a range (`10.0.0.1-10.0.0.254`, or with only the last
 * part after the dash: `192.168.1.200-230`), an IPv4 CIDR (`10.1.0.0/16`), or an IPv6 address or
 * CIDR (`fd00::/8`). A CIDR with bits set after the prefix is refused: it usually means a typo.
 */
export function parseIpSelector(text: string): IpSelector | { readonly problem: string } {
  const s = text.trim();
  const bad = (why: string) => ({ problem: `${JSON.stringify(text)} is not an IP selector: ${why}` });
  if (s === "") return bad("it is empty");
  if (s.length > 100) return bad("it is longer than 100 characters");
  const slash = s.indexOf("/");
  if (slash >= 0) {
    const addr = s.slice(0, slash);
    const lenText = s.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(lenText)) return bad("the prefix length after / must be a number");
    const len = Number(lenText);
    const v4 = parseIpv4(addr);
    if (v4 !== undefined) {
      if (len > 32) return bad("an IPv4 prefix length is 0 to 32");
      const size = 2 ** (32 - len);
      const lo = v4 - (v4 % size);
      if (lo !== v4) return bad(`bits are set after the /${len} prefix (did you mean ${formatIpv4(lo)}/${len}?)`);
      return { text: s, family: 4, lo, hi: lo + size - 1 };
    }
    const v6 = parseIpv6(addr);
    if (v6 === undefined) return bad(`${JSON.stringify(addr)} is not an IPv4 or IPv6 address`);
    if (len > 128) return bad("an IPv6 prefix length is 0 to 128");
    for (let bit = len; bit < 128; bit++) {
      if (((v6[bit >> 4] as number) >> (15 - (bit & 15))) & 1) return bad(`bits are set after the /${len} prefix`);
    }
    return { text: s, family: 6, words: v6, bits: len };
  }
  const dash = s.indexOf("-");
  if (dash >= 0) {
    const from = parseIpv4(s.slice(0, dash));
    const toText = s.slice(dash + 1);
    if (from === undefined) return bad(`a range starts with an IPv4 address, not ${JSON.stringify(s.slice(0, dash))}`);
    let to = parseIpv4(toText);
    // The short form: only the last part of the end address (192.168.1.200-230).
    if (to === undefined && OCTET.test(toText) && Number(toText) <= 255) to = from - (from % 256) + Number(toText);
    if (to === undefined) return bad(`a range ends with an IPv4 address or a number 0-255, not ${JSON.stringify(toText)}`);
    if (to < from) return bad("the range ends before it starts");
    return { text: s, family: 4, lo: from, hi: to };
  }
  const v4 = parseIpv4(s);
  if (v4 !== undefined) return { text: s, family: 4, lo: v4, hi: v4 };
  const v6 = parseIpv6(s);
  if (v6 !== undefined) return { text: s, family: 6, words: v6, bits: 128 };
  return bad("write an address (10.0.0.7), a range (10.0.0.1-10.0.0.254 or 192.168.1.200-230) or a CIDR (10.1.0.0/16)");
}

/** An agent's reported address, parsed once for all the selectors it is checked against. */
export type ParsedAddress = { readonly family: 4; readonly n: number } | { readonly family: 6; readonly words: readonly number[] } | undefined;

export function parseAddress(ip: string): ParsedAddress {
  if (ip === "" || ip.length > 64) return undefined;
  const v4 = parseIpv4(ip);
  if (v4 !== undefined) return { family: 4, n: v4 };
  const v6 = parseIpv6(ip);
  if (v6 === undefined) return undefined;
  const mapped = mappedIpv4(v6);
  return mapped !== undefined ? { family: 4, n: mapped } : { family: 6, words: v6 };
}

export function ipMatches(selector: IpSelector, address: ParsedAddress): boolean {
  if (address === undefined) return false;
  if (selector.family === 4) return address.family === 4 && address.n >= selector.lo && address.n <= selector.hi;
  if (address.family !== 6) return false;
  for (let i = 0; i < 8; i++) {
    const bits = Math.min(16, Math.max(0, selector.bits - i * 16));
    if (bits === 0) return true;
    const mask = (0xffff << (16 - bits)) & 0xffff;
    if (((address.words[i] as number) & mask) !== ((selector.words[i] as number) & mask)) return false;
  }
  return true;
}

/**
 * One `hostnames:` entry: a host name or a glob where `*` stands for any run of characters
 * (dots included) and `?` for one character. Matched case-insensitively, as DNS names are.
 */
export function parseHostnameGlob(text: string): string | { readonly problem: string } {
  const s = text.trim();
  const bad = (why: string) => ({ problem: `${JSON.stringify(text)} is not a host name pattern: ${why}` });
  if (s === "") return bad("it is empty");
  if (s.length > MAX_SELECTOR_LENGTH) return bad(`it is longer than ${MAX_SELECTOR_LENGTH} characters (the longest host name)`);
  if (!/^[A-Za-z0-9._*?-]+$/.test(s)) return bad("a host name has letters, digits, '-', '.' and '_'; a pattern adds '*' (any run of characters) and '?' (one character)");
  return s.toLowerCase();
}

/**
 * Whether `hostname` matches `glob` (lower case, from parseHostnameGlob). The glob is split at
 * each `*` and the pieces found left to right, each at its first fit: for `*`-only wildcards the
 * leftmost fit is always a correct choice, so nothing backtracks and the work is bounded by the
 * two lengths' product (both at most 253), never exponential as a backtracking regex can be.
 */
export function hostnameMatches(glob: string, hostname: string): boolean {
  if (hostname === "" || hostname.length > MAX_SELECTOR_LENGTH) return false;
  const name = hostname.toLowerCase();
  const pieces = glob.split("*");
  const fits = (piece: string, at: number) => {
    for (let i = 0; i < piece.length; i++) {
      const c = piece[i];
      if (c !== "?" && c !== name[at + i]) return false;
    }
    return true;
  };
  const first = pieces[0] as string;
  if (pieces.length === 1) return name.length === first.length && fits(first, 0);
  const last = pieces[pieces.length - 1] as string;
  if (name.length < first.length + last.length || !fits(first, 0) || !fits(last, name.length - last.length)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (let p = 1; p < pieces.length - 1; p++) {
    const piece = pieces[p] as string;
    let found = -1;
    for (let i = at; i + piece.length <= end; i++) {
      if (fits(piece, i)) {
        found = i;
        break;
      }
    }
    if (found < 0) return false;
    at = found + piece.length;
  }
  return true;
}
