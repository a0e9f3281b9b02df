// The CLI's usage errors and help (issue 25, point 6): a mistyped option gets the suggestion and
// one line pointing to --help, not the whole help; every command's help ends with examples.
import test from "ava";
import { runCli } from "./helpers/cli.ts";

const COMMANDS = ["serve", "init", "validate", "history", "rollback", "import"] as const;

test("an unknown option prints the error, the suggestion and one line pointing to --help; exit 2", async (t) => {
  const r = await runCli(["serve", "--prot", "9000"]);
  t.is(r.code, 2);
  t.is(r.stdout, "");
  t.deepEqual(r.stderr.trimEnd().split("\n"), ["error: unknown option '--prot'", "(Did you mean --port?)", 'Run "configserver serve --help" for its options and examples.']);

  const top = await runCli(["--bogus"]);
  t.is(top.code, 2);
  t.deepEqual(top.stderr.trimEnd().split("\n"), ["error: unknown option '--bogus'", 'Run "configserver --help" for its options and examples.']);

  const missing = await runCli(["rollback", "app"]);
  t.is(missing.code, 2);
  t.deepEqual(missing.stderr.trimEnd().split("\n"), ["error: required option '--to <version>' not specified", 'Run "configserver rollback --help" for its options and examples.']);
});

test("the help of the program and of every command ends with examples of that command", async (t) => {
  for (const command of ["", ...COMMANDS]) {
    const r = await runCli(command ? [command, "--help"] : ["--help"]);
    t.is(r.code, 0, command);
    const [, examples = ""] = r.stdout.split("\nExamples:\n");
    const lines = examples.trimEnd().split("\n");
    t.true(lines.length >= 2, `${command || "configserver"} --help ends with examples:\n${r.stdout}`);
    for (const line of lines) t.regex(line, command ? new RegExp(`^  \\$ (CONFIGSERVER_\\w+=\\S+ )?configserver (${command}|history) `) : /^ {2}\$ configserver /, `${command}: ${line}`);
  }
});

test("rollback --author and --message are checked before anything is read: a bad one is a usage error naming it", async (t) => {
  const author = await runCli(["rollback", "app", "--to", "1", "--server", "http://127.0.0.1:9", "--author", "ann"]);
  t.is(author.code, 2);
  t.regex(author.stderr, /--author "ann" is refused: .*Name <email>/);
  const message = await runCli(["rollback", "app", "--to", "1", "--server", "http://127.0.0.1:9", "--message", "  "]);
  t.is(message.code, 2);
  t.regex(message.stderr, /--message is refused: it is empty/);
});
