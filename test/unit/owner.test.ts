import { spawn } from "node:child_process";
import test from "ava";
import { isLive, isSelf, ownerName, parseOwner, SELF } from "../../src/store/owner.ts";

// Who left a file behind decides whether repair may touch it: a live owner's files never.

test("an owner's name round-trips, and this process is live and itself", (t) => {
  const parsed = parseOwner(ownerName(SELF));
  t.deepEqual(parsed, SELF);
  t.true(isSelf(SELF));
  t.true(isLive(SELF));
  t.is(parseOwner("not-an-owner"), undefined);
  t.is(parseOwner("12-34-ab-"), undefined);
});

test("an earlier process with this process's pid (a restarted container's pid 1) is not live", (t) => {
  t.false(isLive({ ...SELF, token: "00000000" }));
});

test("a process that exited is not live; a running one is, unless its start time shows another process", async (t) => {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  t.teardown(() => child.kill("SIGKILL"));
  const pid = child.pid as number;
  // Its start time as the owner record would hold it (read the same way).
  const { readFileSync } = await import("node:fs");
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] as string;
  const owner = { pid, start, boot: SELF.boot, token: "12345678" };
  t.true(isLive(owner));
  t.false(isLive({ ...owner, start: String(Number(start) + 1) }), "same pid, another start time: the pid was reused");
  t.false(isLive({ ...owner, boot: "000000000001" }), "before a reboot");
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  t.false(isLive(owner));
});
