import type { Change } from "../domain/userOps.ts";
import { keepsTrailer } from "./keptVersions.ts";
import { configPath, groupPath, instanceConfigPath } from "./repoContent.ts";
import { rollbackTrailer } from "./rollbackTrailer.ts";
import type { FileWrite } from "./writeTransaction.ts";
import { renderConfig, renderGroup } from "./yaml/renderFiles.ts";

// A write plan (domain/userOps.ts) says what changes in the model; the writer commits files.
// These turn the one into the other, against the texts the plan was made on (rendering keeps a
// person's comments and layout).

/** The file one planned change writes (undefined text: the file is deleted). */
export function fileWrite(change: Change, texts: ReadonlyMap<string, string>): FileWrite {
  switch (change.kind) {
    case "putConfig": {
      const path = configPath(change.config.name);
      return { path, text: renderConfig(change.config, texts.get(path)) };
    }
    case "putGroup": {
      const path = groupPath(change.group.name);
      return { path, text: renderGroup(change.group, texts.get(path)) };
    }
    case "restoreConfig":
      return { path: configPath(change.config.name), text: change.text };
    case "deleteConfig":
      return { path: configPath(change.name), text: undefined };
    case "deleteGroup":
      return { path: groupPath(change.name), text: undefined };
    case "restoreInstanceConfig":
      return { path: instanceConfigPath(change.name), text: change.text };
  }
}

/** The paths a write rolls back (its Rollback trailers). */
export function rollbackPaths(changes: readonly Change[]): Set<string> {
  return new Set(changes.flatMap((c) => (c.kind === "restoreConfig" && c.rollbackTo !== undefined ? [configPath(c.config.name)] : [])));
}

/** Appends the Keeps-Version trailers of restores that put back the served content (keptVersions.ts), and the Rollback trailers of rollbacks (rollbackTrailer.ts). */
export function withTrailers(message: string, changes: readonly Change[]): string {
  const trailers = changes.flatMap((c) => (c.kind === "restoreConfig" && c.keeps ? [keepsTrailer(configPath(c.config.name), c.keeps)] : []));
  for (const c of changes) if (c.kind === "restoreConfig" && c.rollbackTo !== undefined) trailers.push(rollbackTrailer(configPath(c.config.name), c.rollbackTo));
  return trailers.length === 0 ? message : `${message}\n\n${trailers.join("\n")}`;
}
