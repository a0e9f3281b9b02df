import { gunzipSync } from "node:zlib";
import { opamp } from "../../gen/proto.js";
import type { MessageType } from "../codec.ts";

export const pb = opamp.proto.v1;

/** The largest AgentToServer accepted once a gzipped body is inflated (the body limit's default). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Set on a decoded request whose body came gzipped. */
export const GZIPPED = Symbol("gzipped");

/**
 * AgentToServer as the route decodes it: the spec lets a client gzip the request body (and says
 * so in `Content-Encoding: gzip`). A gzip stream starts with 0x1f 0x8b, which no AgentToServer
 * can (0x1f is field 3 with wire type 7, which does not exist), so the body itself says which it
 * is; the handler then checks the header agrees. Inflating stops at MAX_MESSAGE_BYTES.
 */
export const AGENT_TO_SERVER: MessageType<opamp.proto.v1.AgentToServer> = {
  decode(bytes: Uint8Array) {
    if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
      let inflated: Buffer;
      try {
        inflated = gunzipSync(bytes, { maxOutputLength: MAX_MESSAGE_BYTES });
      } catch (e) {
        const tooLarge = (e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
        throw new Error(tooLarge ? `the gzipped body inflates beyond ${MAX_MESSAGE_BYTES} bytes` : `the gzipped body does not inflate: ${(e as Error).message}`);
      }
      const message = pb.AgentToServer.decode(inflated);
      Object.defineProperty(message, GZIPPED, { value: true });
      return message;
    }
    return pb.AgentToServer.decode(bytes);
  },
  encode: (m) => pb.AgentToServer.encode(m),
  fromObject: (o) => pb.AgentToServer.fromObject(o),
  toObject: (m, o) => pb.AgentToServer.toObject(m, o),
  getTypeUrl: (p) => pb.AgentToServer.getTypeUrl(p),
};

/**
 * An instance_uid as the agent's id: the spec's 16 bytes as a UUID's canonical text (what the
 * `OpAMP-Instance-UID` header carries, so logs and the API agree); older clients' other lengths
 * (a ULID's 26 characters) as their text when printable, else hex.
 */
export function instanceIdOf(uid: Uint8Array): string {
  const hex = Buffer.from(uid.buffer, uid.byteOffset, uid.length).toString("hex");
  if (uid.length === 16) return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  for (const b of uid) if (b < 0x21 || b > 0x7e) return hex;
  return Buffer.from(uid).toString("latin1");
}

type AnyValue = opamp.proto.v1.IAnyValue;

/** A KeyValue's value as one string: scalars as text, bytes as hex; undefined for arrays and lists (never matched). */
export function attributeText(v: AnyValue | null | undefined): string | undefined {
  if (!v) return undefined;
  if (v.string_value != null) return v.string_value;
  if (v.bool_value != null) return String(v.bool_value);
  if (v.int_value != null) return String(v.int_value);
  if (v.double_value != null) return String(v.double_value);
  if (v.bytes_value != null) return Buffer.from(v.bytes_value).toString("hex");
  return undefined;
}
