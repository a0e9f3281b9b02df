import type { RepoState } from "../domain/repoState.ts";
import type { RemoteSync, SyncReport } from "./remoteSync.ts";
import type { WriterMode } from "./repoWriter.ts";
import type { RefusedCommit } from "./servedSnapshot.ts";
import type { VersionStartup } from "./versionIndex.ts";

/**
 * The store as /status, /readyz and the metrics see it: what is served and what is wrong, read
 * from memory only, with no way to change anything.
 */
export interface StoreStatus {
  readonly state: RepoState;
  /** False while no valid commit is loaded: agent routes then answer ServerBusy. */
  readonly servable: boolean;
  readonly notServableReason: string | undefined;
  /** The last HEAD that failed validation, while it is still HEAD. */
  readonly refused: RefusedCommit | undefined;
  /** How the last write was committed. */
  readonly writer: WriterMode;
  readonly versionStartup: VersionStartup | undefined;
  readonly lastSync: SyncReport | undefined;
  readonly remote: Pick<RemoteSync, "options" | "lastFetchError" | "lastPushError" | "refusedRewrite"> | undefined;
}
