import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { OPTIONS } from "./options.ts";

/**
 * Reads and checks the YAML settings file (`--config`): a mapping of option names to values.
 * Problems go to `problems` (with the others, reported together); what is read is returned.
 */
export function readSettingsFile(path: string, problems: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    problems.push(`settings file ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    return {};
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    problems.push(`settings file ${path}: not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    return {};
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    problems.push(`settings file ${path}: must be a mapping of option names to values (e.g. "port: 8899")`);
    return {};
  }
  const known = new Set(OPTIONS.map((o) => o.name));
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (!known.has(key)) {
      problems.push(`settings file ${path}: unknown option "${key}" (known: ${[...known].join(", ")})`);
      continue;
    }
    values[key] = value;
  }
  return values;
}
