import { createServer, type IncomingMessage } from "node:http";
import { connect, type AddressInfo } from "node:net";
import test from "ava";
import { RequestHeaders } from "../../src/http/requestHeaders.ts";

/** The request node parses from these raw bytes (so rawHeaders and headers are node's own). */
function parsed(head: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const server = createServer((req, res) => {
      resolve(req);
      res.end();
      server.close();
    }).listen(0, "127.0.0.1", () => {
      const socket = connect((server.address() as AddressInfo).port, "127.0.0.1", () => socket.end(`POST /Agent/HeartBeat HTTP/1.1\r\nHost: x\r\n${head}Content-Length: 0\r\n\r\n`));
      socket.on("error", reject);
      socket.resume();
    });
  });
}

const cases: Record<string, string> = {
  "none of them": "",
  "the usual agent request": "Content-Type: application/x-protobuf\r\n",
  "any case": "CONTENT-TYPE: application/json\r\naccept: application/json\r\nAuThOrIzAtIoN: Bearer t\r\n",
  "duplicates": "Accept: a/b\r\naccept: c/d\r\nContent-Type: x/1\r\ncontent-type: x/2\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\n",
  "look-alike names": "Accepts: x\r\nContent-Types: y\r\nX-Authorization: z\r\nContent-Lengths: 9\r\n",
};

for (const [name, head] of Object.entries(cases)) {
  test(`the four headers read from rawHeaders are req.headers' values: ${name}`, async (t) => {
    const req = await parsed(head);
    const h = new RequestHeaders().scan(req.rawHeaders);
    t.deepEqual(
      { contentType: h.contentType, contentLength: h.contentLength, accept: h.accept, authorization: h.authorization },
      { contentType: req.headers["content-type"], contentLength: req.headers["content-length"], accept: req.headers.accept, authorization: req.headers.authorization },
    );
  });
}
