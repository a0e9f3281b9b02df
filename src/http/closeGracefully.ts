import type { Server } from "node:http";
import type { Logger } from "pino";

/**
 * How a listening HTTP server stops, in the single process and in every worker alike: it stops
 * accepting, closes idle keep-alive connections, and waits for the requests in flight; at
 * `boundMs` it cuts the connections still open (their handlers keep running: writes are drained
 * by the caller). Resolves once the server is closed.
 */
export function closeGracefully(http: Server, boundMs: number, logger: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!http.listening) return resolve();
    const cut = setTimeout(() => {
      logger.warn({ ms: boundMs }, "requests still running at the shutdown deadline; closing their connections");
      http.closeAllConnections();
    }, boundMs);
    cut.unref();
    http.close(() => {
      clearTimeout(cut);
      resolve();
    });
    http.closeIdleConnections();
  });
}
