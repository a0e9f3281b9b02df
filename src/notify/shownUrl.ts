import { redactSecrets } from "../store/redact.ts";

/**
 * A notify URL as logs and the start-up settings show it. Credentials in the URL become `***`
 * (redactSecrets), and so do the query and every path segment after the first: a chat service's
 * incoming-webhook URL carries its secret in the path (`/services/T…/B…/xyz`) or the query.
 */
export function shownUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "(not a URL)";
  }
  const segments = u.pathname.split("/").filter(Boolean);
  const path = segments.length > 1 ? `/${segments[0]}/***` : u.pathname;
  const auth = u.username || u.password ? "***@" : "";
  return redactSecrets(`${u.protocol}//${auth}${u.host}${path}${u.search ? "?***" : ""}`);
}
