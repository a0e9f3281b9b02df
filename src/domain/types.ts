export interface Tag {
  readonly name: string;
  readonly value: string;
}

export interface ConfigSpec {
  readonly name: string;
  readonly agentType: string;
  readonly description: string;
  readonly content: string;
}

/** A config as served: its version is the first-parent depth of the commit that last changed its file. */
export interface ConfigRecord extends ConfigSpec {
  readonly version: number;
  readonly commit: string;
}

export interface GroupSpec {
  readonly name: string;
  readonly description: string;
  readonly tags: readonly Tag[];
  /** Names of the configs applied to this group, sorted and unique. */
  readonly configs: readonly string[];
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
