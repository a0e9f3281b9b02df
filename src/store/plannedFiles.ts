import type { Change } from "../domain/userOps.ts";
import { keepsTrailer } from "./keptVersions.ts";
import { configPath, groupPath } from "./repoContent.ts";
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
  }
}

/** Appends the Keeps-Version trailers of restores that put back the served content (keptVersions.ts). */
export function withTrailers(message: string, changes: readonly Change[]): string {
  const trailers = changes.flatMap((c) => (c.kind === "restoreConfig" && c.keeps ? [keepsTrailer(configPath(c.config.name), c.keeps)] : []));
  return trailers.length === 0 ? message : `${message}\n\n${trailers.join("\n")}`;
}
