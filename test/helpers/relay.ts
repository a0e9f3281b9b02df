import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A plain HTTP reverse proxy, as a load balancer in front of replicas is: each request goes to
 * the current backend, which a test can switch (a restarted server on a new port, another
 * replica). An agent's client keeps one address and never sees a refused connection: while
 * paused (a backend restarting), requests wait and go to the next target.
 */
export interface Relay {
  readonly url: string;
  /** Holds new requests until `target` is called. */
  pause(): void;
  /** Sends requests (held ones first) to this backend from now on. */
  target(url: string): void;
  close(): Promise<void>;
}

export async function startRelay(backend: string): Promise<Relay> {
  let current = new URL(backend);
  let held: (() => void)[] | undefined;
  const server: Server = createServer((req, res) => {
    if (held !== undefined) held.push(() => forward(req, res));
    else forward(req, res);
  });
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const out = request({ host: current.hostname, port: current.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on("error", (e) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`relay: ${e.message}`);
    });
    req.pipe(out);
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    pause: () => {
      held ??= [];
    },
    target: (url) => {
      current = new URL(url);
      const waiting = held ?? [];
      held = undefined;
      for (const go of waiting) go();
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
