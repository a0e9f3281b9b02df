// Generates typed static protobuf code from proto/*.proto into src/gen/ (not committed).
// Runs as the npm `prepare` script, so `npm ci` in a fresh clone leaves a working tree.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "src", "gen");
mkdirSync(out, { recursive: true });
const js = join(out, "proto.js");
const pbjs = join(root, "node_modules", ".bin", "pbjs");

// Every .proto in proto/ (the one list: src/protocols/codec.ts loads the same folder).
const protos = readdirSync(join(root, "proto")).filter((f) => f.endsWith(".proto")).sort().map((f) => `proto/${f}`);
execFileSync(pbjs, ["-t", "static-module", "-w", "es6", "-d", "--keep-case", "--force-long", "--no-verify", "--no-delimited", "-o", js, ...protos], { cwd: root, stdio: "inherit" });
// Node's ESM resolver needs the file extension that the generator leaves out.
writeFileSync(js, readFileSync(js, "utf8").replace(/from "protobufjs\/minimal"/, 'from "protobufjs/minimal.js"'));
