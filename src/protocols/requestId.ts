import { randomUUID } from "node:crypto";

/**
 * The rule of `x-log-requestid`: the header names the exchange in logs, so it carries the
 * client's request id when that can be a header value (agents always send one: a UUID is made
 * only when needed, it is not free at 10k req/s), else a new UUID.
 */

/** A longer request id is not copied into x-log-requestid: proxies and clients cap header sizes. */
export const MAX_HEADER_ID = 128;

/** The request id as x-log-requestid carries it: the client's when it is short header text, else a new UUID. Bytes are read as Latin-1. */
export function headerId(echo: unknown): string {
  let text: string | undefined;
  if (typeof echo === "string") text = echo;
  else if (echo instanceof Uint8Array && echo.length > 0 && echo.length <= MAX_HEADER_ID) text = Buffer.from(echo.buffer, echo.byteOffset, echo.length).toString("latin1");
  return text && text.length <= MAX_HEADER_ID && headerText(text) ? text : randomUUID();
}

/** A space or tab at either end of a header value: HTTP drops it, so the client would read another id. */
export const trimmedByHttp = (first: number, last: number): boolean => first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09;

/** Whether node's http accepts `text` as a header value (its own check, `checkInvalidHeaderChar`: tab, 0x20-0x7e, 0x80-0xff) and a client reads it unchanged. */
function headerText(text: string): boolean {
  if (trimmedByHttp(text.charCodeAt(0), text.charCodeAt(text.length - 1))) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || (c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

/** A log id: `logId` when the request had a usable one, else a new UUID. */
export const requestIdOf = (logId: string) => logId || randomUUID();
