// The image's HEALTHCHECK: GET /healthz on this container's server, with node (the image has no
// curl). The port is CONFIGSERVER_PORT (the image sets 8899); exit 0 when the answer is 200.
import { get } from "node:http";

const port = Number(process.env.CONFIGSERVER_PORT || "8899");
const req = get({ host: "127.0.0.1", port, path: "/healthz", timeout: 4000 }, (res) => {
  res.resume();
  if (res.statusCode !== 200) console.error(`GET /healthz answered ${res.statusCode}`);
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on("timeout", () => req.destroy(new Error("no answer within 4s")));
req.on("error", (e) => {
  console.error(`GET /healthz on port ${port}: ${e.message}`);
  process.exit(1);
});
