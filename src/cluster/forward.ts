import { Agent, request, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import type { Logger } from "pino";

/** Headers of one connection, not of the request (RFC 9110 §7.6.1): never passed on. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);

function endToEnd(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (!HOP_BY_HOP.has(name.toLowerCase())) out.push(name, raw[i + 1] as string);
  }
  return out;
}

/** Headers given as a list get no defaults from node: an HTTP/1.0 request without Host gets one. */
function withHost(req: IncomingMessage): string[] {
  const headers = endToEnd(req.rawHeaders);
  if (req.headers.host === undefined) headers.push("host", "localhost");
  return headers;
}

export interface ForwardOptions {
  /** The primary's Unix socket. */
  readonly socketPath: string;
  readonly logger: Logger;
  /** True once this worker is stopping: answers carry `Connection: close`. */
  readonly shuttingDown: () => boolean;
}

/**
 * A worker's listener for everything that is not an agent's request (the User API, the console,
 * /status, /metrics, webhooks): the request is passed, bytes as they come, to the primary over
 * its Unix socket, and its answer back the same way. The primary alone writes, lists the fleet
 * and checks user tokens, so every worker answers these exactly as one process would.
 */
export function forwarder(options: ForwardOptions): { listener: RequestListener; close(): void } {
  // Connections to the primary are kept and reused, as many as requests in flight.
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 16 });
  const unreachable = (res: ServerResponse, err: Error) => {
    if (res.headersSent) {
      res.destroy(err);
      return;
    }
    const body = JSON.stringify({ error: "ServerBusy", message: options.shuttingDown() ? "The server is shutting down; retry in a moment." : `The server's primary process did not answer (${err.message}); retry in a moment.` });
    res.writeHead(503, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body), "retry-after": "1", ...(options.shuttingDown() ? { connection: "close" } : {}) }).end(body);
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const upstream = request({ socketPath: options.socketPath, agent, method: req.method, path: req.url, headers: withHost(req) }, (answer) => {
      const headers = endToEnd(answer.rawHeaders);
      // The primary's Date is passed on; node would add a second one.
      res.sendDate = false;
      if (options.shuttingDown()) headers.push("connection", "close");
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
      answer.pipe(res);
      answer.once("error", (err) => res.destroy(err));
    });
    upstream.once("error", (err) => {
      options.logger.warn({ err, method: req.method, path: req.url }, "forwarding a request to the primary failed");
      unreachable(res, err);
    });
    // The client went away before the answer was complete: so does the forwarded request.
    res.once("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };
  return { listener, close: () => agent.destroy() };
}
