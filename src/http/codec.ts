import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import type { Writer } from "protobufjs/minimal.js";

/** What the generated static message classes have in common. */
export interface MessageType<T> {
  decode(bytes: Uint8Array): T;
  encode(message: object): Writer;
  fromObject(object: Record<string, unknown>): T;
  toObject(message: T, options?: protobuf.IConversionOptions): Record<string, unknown>;
  getTypeUrl(prefix?: string): string;
}

// Every .proto in proto/, as scripts/gen-proto.mjs compiles them.
const protoDir = fileURLToPath(new URL("../../proto/", import.meta.url));
const protoFiles = readdirSync(protoDir).filter((f) => f.endsWith(".proto")).sort().map((f) => `${protoDir}${f}`);
// Reflection is used only to walk JSON by schema (maps keep their keys; names have two spellings).
const reflection = new protobuf.Root().loadSync(protoFiles, { keepCase: true });

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function reflect(type: MessageType<unknown>): protobuf.Type {
  return reflection.lookupType(type.getTypeUrl("").replace(/^\//, ""));
}

function walk(type: protobuf.Type, value: Record<string, unknown>, toJson: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const jsonName = camel(field.name);
    const v = toJson ? value[field.name] : (value[jsonName] ?? value[field.name]);
    if (v === undefined || v === null) continue;
    field.resolve();
    const sub = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    let converted: unknown = v;
    if (sub) {
      const one = (x: unknown) => (x && typeof x === "object" ? walk(sub, x as Record<string, unknown>, toJson) : x);
      if (field instanceof protobuf.MapField) converted = Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, one(x)]));
      else if (field.repeated && Array.isArray(v)) converted = v.map(one);
      else converted = one(v);
    }
    out[toJson ? jsonName : field.name] = converted;
  }
  return out;
}

export class DecodeError extends Error {}

/** Decodes a request body: protobuf binary, or protobuf JSON when the request says so. */
export function decodeBody<T>(type: MessageType<T>, body: Buffer, json: boolean): T {
  try {
    if (!json) return type.decode(body);
    const parsed: unknown = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("the JSON body must be an object");
    return type.fromObject(walk(reflect(type), parsed as Record<string, unknown>, false));
  } catch (e) {
    throw new DecodeError((e as Error).message);
  }
}

/** Encodes a response body in the request's format. */
export function encodeBody<T>(type: MessageType<T>, message: Record<string, unknown>, json: boolean): Buffer {
  if (!json) return Buffer.from(type.encode(message).finish());
  const obj = type.toObject(type.fromObject(message), { longs: String, enums: String, defaults: true });
  return Buffer.from(JSON.stringify(walk(reflect(type), obj, true)));
}
