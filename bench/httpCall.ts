import { request } from "node:http";

/** One request over node:http (bodies on GET included): its status, answer size and round-trip time. */
export function call(url: string, method: string, path: string, body: Uint8Array | string, type: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers: { "content-type": type, "content-length": String(Buffer.byteLength(body)), ...headers } }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - started }));
    });
    req.on("error", reject);
    req.end(body);
  });
}
