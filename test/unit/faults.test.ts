import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { describeFaults, faultPoint, parseFaults } from "../../src/faults.ts";
import { tempDir } from "../helpers/git.ts";

// Unit test (internals): the fault-injection plan read from the environment, and its run step.

test("CRASH_AT lists steps with the time each is reached at which the process dies (default the first)", (t) => {
  const plan = parseFaults({ CONFIGSERVER_FAULT_CRASH_AT: "planned@2,ref-moved" });
  t.deepEqual([...plan.crashAt], [["planned", 2], ["ref-moved", 1]]);
  t.deepEqual(plan.problems, []);
  t.deepEqual(parseFaults({ CONFIGSERVER_FAULT_CRASH_AT: "planned@0,@3" }).problems, [
    'CONFIGSERVER_FAULT_CRASH_AT: "planned@0" is not <step>[@<n>]',
    'CONFIGSERVER_FAULT_CRASH_AT: "@3" is not <step>[@<n>]',
  ]);
});

test("RUN is an argv list (JSON array of strings); a shell command string is refused", (t) => {
  t.deepEqual(parseFaults({ CONFIGSERVER_FAULT_RUN: '["git","-C","/r","status"]' }).run, ["git", "-C", "/r", "status"]);
  for (const bad of ['"true"', "[]", "[1]", "git status", '{"a":1}']) {
    const plan = parseFaults({ CONFIGSERVER_FAULT_RUN: bad });
    t.is(plan.run, undefined, bad);
    t.regex(plan.problems[0] ?? "", /^CONFIGSERVER_FAULT_RUN must be a JSON array of strings/, bad);
  }
});

test("the run step runs the program once, with its arguments as given (no shell: quotes and $ stay literal)", (t) => {
  const dir = tempDir("cs-faults-");
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, "out");
  const script = join(dir, "append.mjs");
  writeFileSync(script, 'import { appendFileSync } from "node:fs"; appendFileSync(process.argv[2], process.argv[3] + "\\n");');
  const plan = parseFaults({ CONFIGSERVER_FAULT_RUN_AT: "planned", CONFIGSERVER_FAULT_RUN: JSON.stringify([process.execPath, script, out, "$HOME; rm -rf x"]) });
  faultPoint("files-written", plan);
  t.false(existsSync(out), "not at another step");
  faultPoint("planned", plan);
  faultPoint("planned", plan);
  t.is(readFileSync(out, "utf8"), "$HOME; rm -rf x\n", "once, the argument untouched");
});

test("PRIMARY_READ_DELAY_MS is a number of milliseconds", (t) => {
  t.is(parseFaults({ CONFIGSERVER_FAULT_PRIMARY_READ_DELAY_MS: "300" }).primaryReadDelayMs, 300);
  t.is(parseFaults({}).primaryReadDelayMs, 0);
  const bad = parseFaults({ CONFIGSERVER_FAULT_PRIMARY_READ_DELAY_MS: "soon" });
  t.is(bad.primaryReadDelayMs, 0);
  t.deepEqual(bad.problems, ['CONFIGSERVER_FAULT_PRIMARY_READ_DELAY_MS: "soon" is not a number of milliseconds']);
});

test("describeFaults: nothing without fault variables; else one line naming them, the unknown ones and the problems", (t) => {
  t.is(describeFaults({ CONFIGSERVER_PORT: "1", PATH: "/bin" }), undefined);
  t.is(describeFaults({ CONFIGSERVER_FAULT_CRASH_AT: "planned" }), "fault injection is active (tests only): CONFIGSERVER_FAULT_CRASH_AT");
  const line = describeFaults({ CONFIGSERVER_FAULT_RUN_AT: "planned", CONFIGSERVER_FAULT_RUN: "git status", CONFIGSERVER_FAULT_CRASH: "x" }) ?? "";
  t.true(line.startsWith("fault injection is active (tests only): CONFIGSERVER_FAULT_RUN, CONFIGSERVER_FAULT_RUN_AT; unknown, ignored: CONFIGSERVER_FAULT_CRASH; CONFIGSERVER_FAULT_RUN must be a JSON array of strings"), line);
  t.false(line.includes("\n"), "one line");
});
