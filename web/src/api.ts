// Every request the console makes goes through here: the documented JSON API, relative to the
// server's root (the console lives at <root>/ui/), with the user token as a bearer header.
import { signal } from "./signal.ts";

const TOKEN_KEY = "configserver.userToken";
const ROOT = new URL("../", location.href);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Set when the server asked for a token (401); the login dialog shows while it is. */
export const authNeeded = signal<string | undefined>(undefined);
/** Bumped after a login or a write: every page fetches again at once. */
export const epoch = signal(0);

export const refreshAll = () => epoch.set(epoch.get() + 1);

// The token lives in this tab only (sessionStorage), and only ever travels in a header.
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? "",
  set: (t: string) => {
    sessionStorage.setItem(TOKEN_KEY, t);
    authNeeded.set(undefined);
    refreshAll();
  },
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export interface Answer<T> {
  readonly status: number;
  readonly data?: T;
  readonly etag?: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** The ETag of what the caller has: a 304 answer then carries no data. */
  readonly etag?: string | undefined;
  readonly signal?: AbortSignal;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  const t = token.get();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.etag) headers["If-None-Match"] = options.etag;
  const init: RequestInit = { method: options.method ?? "GET", headers, cache: "no-store", credentials: "omit", redirect: "error" };
  if (options.body !== undefined) init.body = JSON.stringify(options.body);
  if (options.signal) init.signal = options.signal;
  const response = await fetch(new URL(path.replace(/^\//, ""), ROOT), init);
  if (response.status === 304) return { status: 304 };
  const text = await response.text();
  let data: unknown;
  try {
    data = text === "" ? undefined : JSON.parse(text);
  } catch {
    data = undefined;
  }
  const body = (data ?? {}) as { code?: string; message?: string };
  if (response.status === 401) {
    authNeeded.set(body.message ?? "This server requires a user token.");
    throw new ApiError(401, "Unauthorized", body.message ?? "A user token is needed.");
  }
  if (!response.ok || (body.code !== undefined && body.code !== "Accept")) {
    throw new ApiError(response.status, body.code ?? String(response.status), body.message ?? (text.slice(0, 300) || response.statusText));
  }
  return { status: response.status, data: data as T, etag: response.headers.get("etag") ?? undefined };
}

export const get = async <T>(path: string) => (await request<T>(path)).data as T;

/** Who makes a change and why, sent with every write. */
export interface WriteMeta {
  readonly authorName: string;
  readonly authorEmail: string;
  readonly message: string;
}

/**
 * Header values travel as bytes, and fetch only takes characters up to U+00FF: the UTF-8 bytes of
 * the text go one per character, and the server reads them back as UTF-8 ("José", "张伟").
 */
const utf8Bytes = (s: string) => String.fromCharCode(...new TextEncoder().encode(s));

export function writeHeaders(meta: WriteMeta): Record<string, string> {
  const h: Record<string, string> = {};
  if (meta.authorName.trim() && meta.authorEmail.trim()) h["X-Configserver-Author"] = utf8Bytes(`${meta.authorName.trim()} <${meta.authorEmail.trim()}>`);
  if (meta.message.trim()) h["X-Configserver-Message"] = utf8Bytes(meta.message.trim().replace(/\s*\n\s*/g, " "));
  return h;
}

export async function write<T>(method: string, path: string, body: unknown, meta: WriteMeta): Promise<T> {
  const answer = await request<T>(path, { method, body, headers: writeHeaders(meta) });
  refreshAll();
  return answer.data as T;
}

export const q = (s: string) => encodeURIComponent(s);
