// Unit tests of the address and host name selectors (pure functions: src/domain/addressMatch.ts).
import test from "ava";
import { hostnameMatches, ipMatches, parseAddress, parseHostnameGlob, parseIpSelector, parseIpv4, parseIpv6, type IpSelector } from "../../src/domain/addressMatch.ts";

const sel = (text: string): IpSelector => {
  const s = parseIpSelector(text);
  if ("problem" in s) throw new Error(s.problem);
  return s;
};
const problem = (text: string) => {
  const s = parseIpSelector(text);
  return "problem" in s ? s.problem : undefined;
};
const hits = (selector: string, ip: string) => ipMatches(sel(selector), parseAddress(ip));

test("IPv4 addresses parse strictly", (t) => {
  t.is(parseIpv4("10.0.0.1"), 10 * 2 ** 24 + 1);
  t.is(parseIpv4("255.255.255.255"), 2 ** 32 - 1);
  t.is(parseIpv4("0.0.0.0"), 0);
  for (const bad of ["10.0.0", "10.0.0.256", "10.0.0.01", "1.2.3.4.5", "a.b.c.d", "", "10..0.1", " 10.0.0.1", "10.0.0.-1"]) t.is(parseIpv4(bad), undefined, bad);
});

test("IPv6 addresses parse with :: and a dotted tail", (t) => {
  t.deepEqual(parseIpv6("::1"), [0, 0, 0, 0, 0, 0, 0, 1]);
  t.deepEqual(parseIpv6("fd00::"), [0xfd00, 0, 0, 0, 0, 0, 0, 0]);
  t.deepEqual(parseIpv6("2001:db8:0:0:1:0:0:1"), [0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]);
  t.deepEqual(parseIpv6("::ffff:10.1.2.3"), [0, 0, 0, 0, 0, 0xffff, 0x0a01, 0x0203]);
  for (const bad of ["1::2::3", "12345::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "g::", ":::"]) t.is(parseIpv6(bad), undefined, bad);
});

test("a single address matches only itself", (t) => {
  t.true(hits("10.0.0.7", "10.0.0.7"));
  t.false(hits("10.0.0.7", "10.0.0.8"));
  t.false(hits("10.0.0.7", ""));
  t.false(hits("10.0.0.7", "not an ip"));
});

test("ranges include both ends; the short form keeps the first three parts", (t) => {
  t.true(hits("10.0.0.1-10.0.0.254", "10.0.0.1"));
  t.true(hits("10.0.0.1-10.0.0.254", "10.0.0.254"));
  t.false(hits("10.0.0.1-10.0.0.254", "10.0.0.255"));
  t.false(hits("10.0.0.1-10.0.0.254", "10.0.0.0"));
  t.true(hits("10.0.0.250-10.0.1.5", "10.0.1.2"));
  t.deepEqual(sel("192.168.1.200-230"), { text: "192.168.1.200-230", family: 4, lo: parseIpv4("192.168.1.200"), hi: parseIpv4("192.168.1.230") });
  t.true(hits("192.168.1.200-230", "192.168.1.215"));
  t.false(hits("192.168.1.200-230", "192.168.1.231"));
  t.false(hits("192.168.1.200-230", "192.168.2.215"));
});

test("CIDRs match their network; IPv4-mapped agents match IPv4 selectors", (t) => {
  t.true(hits("10.1.0.0/16", "10.1.255.255"));
  t.false(hits("10.1.0.0/16", "10.2.0.0"));
  t.true(hits("0.0.0.0/0", "203.0.113.9"));
  t.true(hits("10.1.2.3/32", "10.1.2.3"));
  t.true(hits("10.1.0.0/16", "::ffff:10.1.2.3"));
  t.true(hits("fd00::/8", "fd12:3456::1"));
  t.false(hits("fd00::/8", "fe80::1"));
  t.true(hits("2001:db8::/33", "2001:db8:7fff::1"));
  t.false(hits("2001:db8::/33", "2001:db8:8000::1"));
  t.false(hits("fd00::/8", "10.0.0.1"));
  t.false(hits("10.0.0.0/8", "fd00::1"));
  t.true(hits("::1", "::1"));
});

test("malformed selectors say what is wrong", (t) => {
  t.regex(problem("10.1.2.3/16") ?? "", /bits are set after the \/16 prefix \(did you mean 10\.1\.0\.0\/16\?\)/);
  t.regex(problem("10.0.0.0/33") ?? "", /prefix length is 0 to 32/);
  t.regex(problem("10.0.0.9-10.0.0.1") ?? "", /ends before it starts/);
  t.regex(problem("10.0.0.9-300") ?? "", /ends with an IPv4 address or a number 0-255/);
  t.regex(problem("web-1") ?? "", /ends with an IPv4 address|starts with an IPv4 address/);
  t.regex(problem("hello") ?? "", /write an address/);
  t.regex(problem("") ?? "", /empty/);
  t.regex(problem("fd00::1/64") ?? "", /bits are set/);
});

test("host name globs: * any run (dots included), ? one character, case-insensitive", (t) => {
  const g = (p: string) => parseHostnameGlob(p) as string;
  t.true(hostnameMatches(g("web-*"), "web-1"));
  t.true(hostnameMatches(g("web-*"), "web-"));
  t.false(hostnameMatches(g("web-*"), "db-1"));
  t.true(hostnameMatches(g("*.prod.example.com"), "a.b.prod.example.com"));
  t.false(hostnameMatches(g("*.prod.example.com"), "prod.example.com"));
  t.true(hostnameMatches(g("WEB-?"), "web-7"));
  t.false(hostnameMatches(g("web-?"), "web-17"));
  t.true(hostnameMatches(g("a*b*c"), "axxbyyc"));
  t.false(hostnameMatches(g("a*b*c"), "axxcyyb"));
  t.true(hostnameMatches(g("*"), "anything"));
  t.true(hostnameMatches(g("exact.host"), "EXACT.host"));
  t.false(hostnameMatches(g("exact.host"), "exact.hostx"));
  t.false(hostnameMatches(g("*"), ""));
  t.true(hostnameMatches(g("*a*a*"), "aa"));
  t.false(hostnameMatches(g("*a*a*a*"), "aa"));
});

test("a glob that backtracks exponentially in a regex engine is answered at once", (t) => {
  const glob = parseHostnameGlob(`${"*a".repeat(40)}*b`) as string;
  t.false(hostnameMatches(glob, "a".repeat(250)));
});

test("host name patterns are checked", (t) => {
  t.regex((parseHostnameGlob("web 1") as { problem: string }).problem, /letters, digits/);
  t.regex((parseHostnameGlob("") as { problem: string }).problem, /empty/);
  t.regex((parseHostnameGlob("a".repeat(254)) as { problem: string }).problem, /longer than 253/);
  t.is(parseHostnameGlob(" Web-* "), "web-*");
});
