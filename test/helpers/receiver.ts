import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { ExecutionContext } from "ava";

export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body's bytes, as signed. */
  readonly raw: Buffer;
  readonly json: Record<string, unknown>;
  /** The status this request was answered with. */
  readonly status: number;
}

/**
 * A real HTTP receiver of --notify-url events on 127.0.0.1, port 0: it records every request and
 * answers each with the next status of `answers` (then 200; 0: never answers). Closed when the test ends.
 */
export async function receiver(t: ExecutionContext, answers: number[] = []): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const status = answers.shift() ?? 200;
      got.push({ path: req.url ?? "", headers: req.headers, raw, json: JSON.parse(raw.toString("utf8")) as Record<string, unknown>, status });
      if (status === 0) return;
      res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "not now");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

/** A port nothing listens on (a receiver that is down): one was just bound and closed. */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
