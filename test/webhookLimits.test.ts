import { createHmac } from "node:crypto";
import { connect } from "node:net";
import { Writable } from "node:stream";
import test from "ava";
import pino from "pino";
import { send } from "./helpers/client.ts";
import { withServer } from "./helpers/server.ts";

const secret = "s3cret-for-tests";
const hmac = (body: string) => createHmac("sha256", secret).update(body).digest("hex");

/**
 * Sends the head of a request declaring a `declared`-byte body and only `sent` bytes of it, and
 * resolves with the status line of the answer. The answer must come without the rest of the body.
 */
function partialPost(url: string, headers: Record<string, string>, declared: number, sent: number): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      const head = [`POST /hooks/git HTTP/1.1`, `Host: ${hostname}:${port}`, `Content-Type: application/json`, `Content-Length: ${declared}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(head.join("\r\n") + "\r\n\r\n");
      socket.write(Buffer.alloc(sent, "{"));
    });
    let answer = "";
    socket.setEncoding("latin1");
    socket.on("data", (c: string) => {
      answer += c;
      if (answer.includes("\r\n")) {
        socket.destroy();
        resolve(answer.slice(0, answer.indexOf("\r\n")));
      }
    });
    socket.on("error", reject);
    // A server waiting for the rest of the body never answers: fail clearly instead of hanging.
    socket.setTimeout(20_000, () => {
      socket.destroy();
      resolve("no answer within 20 s (the server waits for the body)");
    });
    socket.on("close", () => resolve(answer.slice(0, answer.indexOf("\r\n")) || "closed without an answer"));
  });
}

test("a webhook is refused before its body is read: no secret set, no signature header, a declared size over 1 MiB", async (t) => {
  const open = await withServer(t);
  // 20 MiB declared, 64 KiB sent: the answer comes without the rest.
  t.regex(await partialPost(open.url, { "x-hub-signature-256": "sha256=00" }, 20 * 1024 * 1024, 64 * 1024), /^HTTP\/1\.1 401/);
  const s = await withServer(t, { webhookSecret: secret });
  t.regex(await partialPost(s.url, { "x-github-event": "push" }, 20 * 1024 * 1024, 64 * 1024), /^HTTP\/1\.1 401/);
  t.regex(await partialPost(s.url, { "x-hub-signature-256": "sha256=00" }, 2 * 1024 * 1024, 64 * 1024), /^HTTP\/1\.1 413/);
  // A body just over the limit, its size not declared (chunked), is cut at the limit.
  const big = JSON.stringify({ ref: "refs/heads/main", pad: "x".repeat(1024 * 1024) });
  const r = await new Promise<number>((resolve, reject) => {
    const req = (async () => {
      const { request } = await import("node:http");
      const q = request(`${s.url}/hooks/git`, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": `sha256=${hmac(big)}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      q.on("error", reject);
      q.end(big);
    })();
    req.catch(reject);
  });
  t.is(r, 413);
  // A webhook within the limit still works.
  const small = JSON.stringify({ ref: "refs/heads/main" });
  t.is((await send(s.url, "POST", "/hooks/git", small, { "content-type": "application/json", "x-hub-signature-256": `sha256=${hmac(small)}` })).status, 202);
});

test("a delivery id seen twice is answered and ignored; a new delivery is acted on", async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
  const s = await withServer(t, { webhookSecret: secret, syncIntervalMs: 3_600_000, logger: pino({ level: "info" }, sink) });
  const received = () => lines.filter((l) => l.includes("push webhook received")).length;
  const payload = JSON.stringify({ ref: "refs/heads/main", after: "1".repeat(40) });
  const github = (id: string) => ({ "content-type": "application/json", "x-github-event": "push", "x-github-delivery": id, "x-hub-signature-256": `sha256=${hmac(payload)}` });
  const first = await send(s.url, "POST", "/hooks/git", payload, github("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
  t.is(first.status, 202);
  t.is(received(), 1);
  const again = await send(s.url, "POST", "/hooks/git", payload, github("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
  t.is(again.status, 200);
  t.regex(again.body.toString(), /already received/);
  t.is(received(), 1);
  const gitlab = await send(s.url, "POST", "/hooks/git", payload, { "x-gitlab-event": "Push Hook", "x-gitlab-token": secret, "x-gitlab-event-uuid": "13792a34-cac6-4fda-95a8-c58e00a3954e" });
  t.is(gitlab.status, 202);
  t.is((await send(s.url, "POST", "/hooks/git", payload, { "x-gitlab-event": "Push Hook", "x-gitlab-token": secret, "x-gitlab-event-uuid": "13792a34-cac6-4fda-95a8-c58e00a3954e" })).status, 200);
  t.is((await send(s.url, "POST", "/hooks/git", payload, github("another-delivery"))).status, 202);
  t.is(received(), 3);
  // A forged repeat (wrong signature) of a known id is refused, not "ignored".
  t.is((await send(s.url, "POST", "/hooks/git", payload, { ...github("another-delivery"), "x-hub-signature-256": "sha256=00" })).status, 401);
});
