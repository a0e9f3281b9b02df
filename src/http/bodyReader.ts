import type { IncomingMessage } from "node:http";

/** Why a body could not be read: too large (answered 413), or another reason (400). */
export interface BodyError {
  readonly tooLarge: boolean;
  /** raw-body's wording, which the answers quote ("Could not read the request body: …"). */
  readonly message: string;
}

const TOO_LARGE: BodyError = Object.freeze({ tooLarge: true, message: "request entity too large" });
const ABORTED: BodyError = Object.freeze({ tooLarge: false, message: "request aborted" });
const SIZE_MISMATCH: BodyError = Object.freeze({ tooLarge: false, message: "request size did not match content length" });

/**
 * Reads a request body within `limit` bytes and calls `done` once, as raw-body's getRawBody
 * does for koa's routes (the same refusals: a Content-Length over the limit before reading,
 * more bytes than the limit while reading, an aborted request, a body shorter than its
 * Content-Length; on a refusal the stream is halted), without what the agent path does not
 * need: a Promise, an async-hooks resource, a decoder, five listeners added and removed.
 * A request closed before its end without being aborted gets no call (raw-body's too).
 */
export function readBody(req: IncomingMessage, limit: number, contentLength: string | undefined, done: (error: BodyError | undefined, body: Buffer | undefined) => void): void {
  const length = contentLength === undefined ? -1 : decimal(contentLength);
  if (length > limit) return halt(req, TOO_LARGE, done);
  let first: Buffer | undefined;
  let more: Buffer[] | undefined;
  let received = 0;
  let complete = false;
  req.on("data", (chunk: Buffer) => {
    if (complete) return;
    received += chunk.length;
    if (received > limit) {
      complete = true;
      return halt(req, TOO_LARGE, done);
    }
    if (first === undefined) first = chunk;
    else (more ??= [first]).push(chunk);
  });
  req.on("end", () => {
    if (complete) return;
    complete = true;
    if (length >= 0 && received !== length) return halt(req, SIZE_MISMATCH, done);
    done(undefined, more !== undefined ? Buffer.concat(more, received) : (first ?? EMPTY));
  });
  req.on("aborted", () => {
    if (complete) return;
    complete = true;
    halt(req, ABORTED, done);
  });
}

const EMPTY = Buffer.alloc(0);

/** A Content-Length as node's parser accepted it (digits only), read as parseInt would; -1 when it has no digits. */
function decimal(text: string): number {
  let n = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  return i === 0 ? -1 : n;
}

function halt(req: IncomingMessage, error: BodyError, done: (error: BodyError | undefined, body: Buffer | undefined) => void): void {
  req.unpipe();
  req.pause();
  done(error, undefined);
}
