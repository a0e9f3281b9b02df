import type { ConfigRecord, ConfigSpec } from "./types.ts";

/** The `agent_type` that marks a config for OpAMP agents (OpenTelemetry Collectors, EDOT SDKs). */
export const OPAMP_AGENT_TYPE = "opamp";

/**
 * Whether a config is meant for OpAMP agents. Such a config never goes to LoongCollector agents
 * (alpha, v1, v2), and only such configs go to OpAMP agents: the two fleets read different
 * formats, and an OpenTelemetry Collector's pipeline would be garbage to LoongCollector.
 */
export function isOpampConfig(c: Pick<ConfigSpec, "agentType">): boolean {
  return c.agentType.trim().toLowerCase() === OPAMP_AGENT_TYPE;
}

/**
 * The content type an OpAMP agent receives a config's content with: JSON when the file declares
 * `format: json` or the content is a JSON object or array (EDOT SDKs accept only JSON), text for
 * `format: text`, YAML otherwise (what Collectors read).
 */
export function opampContentType(c: Pick<ConfigSpec, "content" | "format">): string {
  if (c.format === "json") return "application/json";
  if (c.format === "text") return "text/plain";
  const t = c.content.trimStart();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      JSON.parse(c.content);
      return "application/json";
    } catch {
      // A YAML flow mapping: YAML.
    }
  }
  return "application/yaml";
}

/** One file of an OpAMP agent's config map: the config's name, its content as written and its type. */
export interface OpampFile {
  readonly name: string;
  readonly version: number;
  readonly body: string;
  readonly contentType: string;
}

/** The files the given (applied, sorted) OpAMP configs make. */
export function opampFiles(configs: readonly ConfigRecord[]): OpampFile[] {
  return configs.map((c) => ({ name: c.name, version: c.version, body: c.content, contentType: opampContentType(c) }));
}
