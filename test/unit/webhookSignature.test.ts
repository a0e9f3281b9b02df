import { createHmac } from "node:crypto";
import test from "ava";
import { verifyPush } from "../../src/http/webhook.ts";

// How a push webhook's signature is checked, per provider (the server's answers to signed, unsigned
// and replayed deliveries are tested over HTTP in test/webhook.test.ts).

const secret = "s3cret-for-tests";
const payload = JSON.stringify({ ref: "refs/heads/main", after: "0".repeat(40) });
const hmac = (body: string, key = secret) => createHmac("sha256", key).update(body).digest("hex");

test("verifyPush: each provider's scheme, constant-time compared", (t) => {
  const body = Buffer.from(payload);
  t.deepEqual(verifyPush({ "x-hub-signature-256": `sha256=${hmac(payload)}` }, body, secret), { ok: true, provider: "github" });
  t.deepEqual(verifyPush({ "x-gitea-signature": hmac(payload) }, body, secret), { ok: true, provider: "gitea" });
  t.deepEqual(verifyPush({ "x-gitlab-token": secret }, body, secret), { ok: true, provider: "gitlab" });
  t.false(verifyPush({ "x-hub-signature-256": hmac(payload) }, body, secret).ok); // missing "sha256=" prefix
  t.false(verifyPush({ "x-gitlab-token": `${secret}x` }, body, secret).ok);
});
