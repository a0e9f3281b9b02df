import type { IpSelector } from "./addressMatch.ts";
import type { ContentFormat } from "./contentFormat.ts";
import type { RolloutPolicy } from "./rolloutPolicy.ts";

export interface Tag {
  readonly name: string;
  readonly value: string;
}

/** An instance config: the agent process's own settings (`instance_configs/<name>.yaml`). */
export interface InstanceConfigSpec {
  readonly name: string;
  readonly description: string;
  readonly content: string;
  /** The file's `format:` when it declares one: how the content is checked (src/domain/contentFormat.ts). */
  readonly format?: ContentFormat;
  /** The file's `rollout:` policy, which replaces the repository's rollout.yaml for this config. */
  readonly rollout?: RolloutPolicy;
}

/** A pipeline config (`configs/<name>.yaml`): an instance config's fields and the agent type it is for. */
export interface ConfigSpec extends InstanceConfigSpec {
  readonly agentType: string;
}

/** What serving adds to a config or an instance config. */
export interface ServedVersion {
  /** The first-parent depth of the commit that last changed its file. */
  readonly version: number;
  readonly commit: string;
  /** That commit says it rolls the file back (a `Rollback:` trailer): a rollout never stages it. */
  readonly rollback?: true | undefined;
  /**
   * The content as a JSON object's text, for agents that take pipelines as JSON (v2): the content
   * itself when it is a JSON object, else its YAML mapping converted. Undefined when the content
   * is not a mapping (`notMapping` says why): such a config cannot go to those agents.
   */
  readonly detailJson?: string | undefined;
  readonly notMapping?: string | undefined;
}

/** A config as served. */
export interface ConfigRecord extends ConfigSpec, ServedVersion {}

export interface InstanceConfigRecord extends InstanceConfigSpec, ServedVersion {}

export interface GroupSpec {
  readonly name: string;
  readonly description: string;
  readonly tags: readonly Tag[];
  /** Addresses, ranges and CIDRs (`ips:`): the group also matches an agent reporting an address in one. */
  readonly ips?: readonly IpSelector[] | undefined;
  /** Host name globs, lower case (`hostnames:`): the group also matches an agent whose host name fits one. */
  readonly hostnames?: readonly string[] | undefined;
  /** Names of the configs applied to this group, sorted and unique. */
  readonly configs: readonly string[];
  /** Names of the instance configs applied to this group, sorted and unique (absent = none). */
  readonly instanceConfigs?: readonly string[] | undefined;
}

export const DEFAULT_GROUP = "default";
export const DEFAULT_GROUP_DESCRIPTION = "Default agent group, include all Agents.";

/** One location in the repository, for messages people can act on. */
export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** A position in a file, 1-based, as editors and GitHub annotations count. */
export interface Pos {
  readonly line: number;
  readonly column: number;
}
