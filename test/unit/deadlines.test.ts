import test from "ava";
import { Deadlines, type Deadline } from "../../src/http/deadlines.ts";

interface Entry extends Deadline {
  readonly name: string;
  readonly added: number;
}
/** The list's timer does not keep a process alive (the requests' sockets do): this stands in for them. */
const alive = async <T>(p: Promise<T>): Promise<T> => {
  const keep = setInterval(() => {}, 1000);
  try {
    return await p;
  } finally {
    clearInterval(keep);
  }
};
const entry = (name: string): Entry => ({ name, added: performance.now(), deadline: 0, prev: undefined, next: undefined, waiting: false });

test("requests expire in arrival order, never before their deadline; removed ones never", async (t) => {
  const expired: [string, number][] = [];
  let done: () => void = () => {};
  const all = new Promise<void>((r) => (done = r));
  const d = new Deadlines<Entry>(40, (e) => {
    expired.push([e.name, performance.now() - e.added]);
    if (e.name === "d") done();
  });
  const [a, b, c] = [entry("a"), entry("b"), entry("c")];
  for (const e of [a, b, c]) d.add(e, e.added);
  d.remove(b);
  d.remove(b); // twice: no effect
  t.false(b.waiting);
  await new Promise((r) => setTimeout(r, 5));
  const late = entry("d");
  d.add(late, late.added);
  await alive(all);
  t.deepEqual(expired.map(([n]) => n), ["a", "c", "d"]);
  for (const [n, ms] of expired) t.true(ms >= 40, `${n} after ${ms} ms`);
  t.false(a.waiting);
});

test("the head removed early: the next one still expires on time, and an emptied list arms nothing", async (t) => {
  const expired: string[] = [];
  let done: () => void = () => {};
  const second = new Promise<void>((r) => (done = r));
  const d = new Deadlines<Entry>(30, (e) => {
    expired.push(e.name);
    done();
  });
  const [a, b] = [entry("a"), entry("b")];
  d.add(a, a.added);
  d.add(b, b.added);
  d.remove(a);
  await alive(second);
  t.deepEqual(expired, ["b"]);
  const c = entry("c");
  d.add(c, c.added);
  d.remove(c);
  t.false(c.waiting);
});
