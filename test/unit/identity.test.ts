import test from "ava";
import { commitMessage, parseCommitMessage, parseIdentity } from "../../src/domain/identity.ts";

test("parseIdentity takes git's Name <email> and refuses what git would silently change", (t) => {
  t.deepEqual(parseIdentity("  Ann Example <ann@example.com> "), { name: "Ann Example", email: "ann@example.com" });
  t.deepEqual(parseIdentity("José Müller <jm@例え.jp>"), { name: "José Müller", email: "jm@例え.jp" });
  for (const bad of ["Ann", "ann@example.com", "Ann <ann>", "Ann<ann@example.com>", "A <b> <c@d>", "Ann <a b@c>", "Ann\n <a@b>", "A, B <a@b>, C <c@d>", "", `${"x".repeat(250)} <a@b.c>`]) {
    t.true("problem" in parseIdentity(bad), JSON.stringify(bad));
  }
});

test("a given message is one bounded line; it becomes the subject, the plan's message the body", (t) => {
  t.is(parseCommitMessage("  why  "), "why");
  for (const bad of ["", "  ", "a\nb", "x".repeat(501), "tab\tinside"]) t.true(typeof parseCommitMessage(bad) !== "string", JSON.stringify(bad));
  t.is(commitMessage("Update config x", undefined), "Update config x");
  t.is(commitMessage("Update config x", "Raise the rate"), "Raise the rate\n\nUpdate config x");
});
