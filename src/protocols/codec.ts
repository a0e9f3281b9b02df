import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import type { Writer } from "protobufjs/minimal.js";
import { isUnicodeText } from "../domain/unicodeText.ts";

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

const INTEGER = /^-?\d+$/;
const UNICODE = (path: string) => `field ${path} is not Unicode text: it holds a lone surrogate (a \\ud800-\\udfff escape without its pair)`;
const INT_TYPES = new Set(["int32", "uint32", "sint32", "fixed32", "sfixed32", "int64", "uint64", "sint64", "fixed64", "sfixed64"]);
const kindOf = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "object" ? "an object" : `a ${typeof v} (${JSON.stringify(v)})`);

/**
 * Whether a JSON value fits a scalar or enum field; protobufjs's fromObject would coerce anything
 * (an object into "[object Object]", true into "true"), and such a value must be refused instead.
 */
function checkValue(field: protobuf.Field, v: unknown, path: string): void {
  const fail = (want: string) => {
    throw new DecodeError(`field ${path} must be ${want}, got ${kindOf(v)}`);
  };
  const type = field.type;
  if (field.resolvedType instanceof protobuf.Type) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) fail("an object");
    return;
  }
  if (field.resolvedType instanceof protobuf.Enum) {
    const e = field.resolvedType;
    if (typeof v === "string" ? !Object.hasOwn(e.values, v) : !Number.isInteger(v)) fail(`one of ${Object.keys(e.values).join(", ")}`);
    return;
  }
  if (type === "string" || type === "bytes") {
    if (typeof v !== "string") fail(type === "bytes" ? "a base64 string" : "a string");
    else if (type === "string" && !isUnicodeText(v)) throw new DecodeError(UNICODE(path));
  } else if (type === "bool") {
    if (typeof v !== "boolean") fail("true or false");
  } else if (INT_TYPES.has(type)) {
    if (!(typeof v === "number" && Number.isInteger(v)) && !(typeof v === "string" && INTEGER.test(v))) fail("an integer");
  } else if (type === "float" || type === "double") {
    if (typeof v !== "number" && !(typeof v === "string" && /^(-?\d+(\.\d+)?(e[+-]?\d+)?|NaN|-?Infinity)$/i.test(v))) fail("a number");
  }
}

function walk(type: protobuf.Type, value: Record<string, unknown>, toJson: boolean, path = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!toJson) {
    // Every key must name a field (either spelling): a misspelt field is refused, not ignored.
    for (const key of Object.keys(value)) {
      if (!type.fields[key] && !type.fieldsArray.some((f) => camel(f.name) === key)) {
        throw new DecodeError(`unknown field ${JSON.stringify(path + key)} in ${type.name}; its fields are ${type.fieldsArray.map((f) => f.name).join(", ")}`);
      }
    }
  }
  for (const field of type.fieldsArray) {
    const jsonName = camel(field.name);
    const here = path + field.name;
    if (!toJson && jsonName !== field.name && value[jsonName] != null && value[field.name] != null) {
      throw new DecodeError(`field ${JSON.stringify(here)} is given twice, as ${field.name} and as ${jsonName}: give one`);
    }
    const v = toJson ? value[field.name] : (value[jsonName] ?? value[field.name]);
    if (v === undefined || v === null) continue;
    field.resolve();
    const sub = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    if (!toJson) {
      if (field instanceof protobuf.MapField) {
        if (typeof v !== "object" || Array.isArray(v)) throw new DecodeError(`field ${here} must be an object (a map), got ${kindOf(v)}`);
        for (const [k, x] of Object.entries(v as object)) {
          if (!isUnicodeText(k)) throw new DecodeError(UNICODE(`${here} (a key)`));
          checkValue(field, x, `${here}.${k}`);
        }
      } else if (field.repeated) {
        if (!Array.isArray(v)) throw new DecodeError(`field ${here} must be a list, got ${kindOf(v)}`);
        v.forEach((x, i) => checkValue(field, x, `${here}[${i}]`));
      } else checkValue(field, v, here);
    }
    let converted: unknown = v;
    if (sub) {
      const one = (x: unknown, at: string) => (x && typeof x === "object" ? walk(sub, x as Record<string, unknown>, toJson, `${at}.`) : x);
      if (field instanceof protobuf.MapField) converted = Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, one(x, `${here}.${k}`)]));
      else if (field.repeated && Array.isArray(v)) converted = v.map((x, i) => one(x, `${here}[${i}]`));
      else converted = one(v, here);
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

/**
 * A decoded request with fields from a query string added (`config_name=x` or `configName=x`):
 * each name once, checked like a JSON body's (unknown names are refused), and not also set in
 * the body.
 */
export function mergeQuery<T>(type: MessageType<T>, request: T, search: string): T {
  const params = new URLSearchParams(search);
  const given: Record<string, unknown> = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    if (values.length > 1) throw new DecodeError(`${name} is given ${values.length} times`);
    given[name] = values[0];
  }
  const fields = walk(reflect(type), given, false);
  const body = type.toObject(request);
  for (const name of Object.keys(fields)) {
    if (body[name] !== undefined) throw new DecodeError(`field ${name} is given in both the query string and the body: give it once`);
  }
  return type.fromObject({ ...body, ...fields });
}

/** Encodes a response body in the request's format. */
export function encodeBody<T>(type: MessageType<T>, message: Record<string, unknown>, json: boolean): Buffer {
  if (!json) return Buffer.from(type.encode(message).finish());
  const obj = type.toObject(type.fromObject(message), { longs: String, enums: String, defaults: true });
  return Buffer.from(JSON.stringify(walk(reflect(type), obj, true)));
}

const JSON_OPTIONS: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true };

/**
 * The JSON answer of `message` plus a long repeated `field` of `items`, built in slices of
 * `size` with `pause()` between them, so a very long list does not hold the event loop for the
 * whole encoding. The text equals what encodeBody would give for the whole message.
 */
export async function encodeJsonInSlices<T>(type: MessageType<T>, message: Record<string, unknown>, field: string, items: readonly unknown[], size: number, pause: () => Promise<void>): Promise<Buffer> {
  const reflected = reflect(type);
  const f = reflected.fields[field];
  if (!f?.repeated) throw new Error(`${reflected.name}.${field} is not a repeated field`);
  f.resolve();
  const item = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
  const head = walk(reflected, type.toObject(type.fromObject(message), JSON_OPTIONS), true);
  const marker = "\u0000items\u0000";
  head[camel(field)] = marker;
  const [before = "", after = ""] = JSON.stringify(head).split(JSON.stringify(marker));
  const parts: string[] = [before, "["];
  for (let i = 0; i < items.length; i += size) {
    if (i > 0) {
      parts.push(",");
      await pause();
    }
    const slice = items.slice(i, i + size).map((x) => (item ? JSON.stringify(walk(item, item.toObject(item.fromObject(x as Record<string, unknown>), JSON_OPTIONS), true)) : JSON.stringify(x)));
    parts.push(slice.join(","));
  }
  parts.push("]", after);
  return Buffer.from(parts.join(""));
}
