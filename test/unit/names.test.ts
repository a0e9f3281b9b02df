import test from "ava";
import { byName, isValidName, NAME_PATTERN, nameRuleMessage } from "../../src/domain/names.ts";

test("valid names", (t) => {
  for (const name of ["a", "Z", "0", "nginx-access", "a.b_c-d", "a..b", "x.yaml", "x".repeat(128), "9-9"]) t.true(isValidName(name), name);
});

test("invalid names", (t) => {
  const bad = ["", ".", "..", ".x", "-x", "_x", "../x", "a/b", "/a", "a\\b", "a b", " a", "a ", "x".repeat(129), "x".repeat(200), "ä", "a\n", "\na", "a\0", "a:b", "a*", "名"];
  for (const name of bad) t.false(isValidName(name), JSON.stringify(name));
});

test("the rule is the documented pattern", (t) => {
  t.is(NAME_PATTERN.source, "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$");
  t.is(NAME_PATTERN.flags, "");
});

test("the message names the kind, the value and the rule", (t) => {
  t.is(
    nameRuleMessage("config", "../x"),
    `Invalid config name "../x": a name must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ (start with a letter or digit; then letters, digits, '.', '_' or '-'; at most 128 characters).`,
  );
  t.regex(nameRuleMessage("agent group", "a\nb"), /^Invalid agent group name "a\\nb": /);
});

test("byName orders by code unit, whatever the locale, and keeps equal names equal", (t) => {
  const names = ["b", "a-2", "B", "a", "é", "z", "a.1", "a"];
  t.deepEqual(names.map((name) => ({ name })).sort(byName).map((x) => x.name), ["B", "a", "a", "a-2", "a.1", "b", "z", "é"]);
  t.is(byName({ name: "x" }, { name: "x" }), 0);
});
