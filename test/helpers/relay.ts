import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A plain HTTP reverse proxy, as a load balancer in front of replicas is: each request goes to
 * the current backend, which a test can switch (a restarted server on a new port, another
 * replica). An agent's client keeps one address and never sees a refused connection.
 */
export interface Relay {
  readonly url: string;
  target(url: string): void;
  close(): Promise<void>;
}

export async function startRelay(backend: string): Promise<Relay> {
  let current = new URL(backend);
  const server: Server = createServer((req, res) => {
    const out = request({ host: current.hostname, port: current.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on("error", (e) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`relay: ${e.message}`);
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    target: (url) => {
      current = new URL(url);
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
