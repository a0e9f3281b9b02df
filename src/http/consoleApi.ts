import Router from "@koa/router";
import type { Context } from "koa";
import { DomainError } from "../domain/errors.ts";
import { summarizeFleet } from "../domain/fleetSummary.ts";
import { isValidName } from "../domain/names.ts";
import type { AgentRegistry } from "../domain/registry.ts";
import { implicitDefaultGroup } from "../domain/repoState.ts";
import { DEFAULT_GROUP } from "../domain/types.ts";
import { CONFIG_HISTORY, INSTANCE_CONFIG_HISTORY } from "../store/configHistory.ts";
import { STATE_DIRS } from "../store/repoContent.ts";
import type { RepoStore } from "../store/repoStore.ts";
import { renderGroup } from "../store/yaml/renderFiles.ts";
import { commitInfo } from "./commitInfo.ts";
import { getGroup, listGroups, liveAgents, putGroup } from "./consoleGroups.ts";
import { validateFile } from "./consoleValidate.ts";
import { jsonRoute } from "./jsonRoute.ts";
import { versionDiff } from "./versionDiff.ts";

export interface ConsoleApiDeps {
  readonly store: RepoStore;
  readonly registry: AgentRegistry;
  readonly now?: () => number;
  /** Largest request body (the server's --body-limit): a file being validated may be large. */
  readonly bodyLimit: number;
  readonly onError?: (error: unknown, ctx: Context) => void;
}

/**
 * The JSON routes the web console needs beyond the rest of the API (docs/console.md lists them);
 * all are ordinary documented /api/v1 routes, token-protected like the rest of /api/:
 *   GET  /api/v1/fleet                    agents by protocol and version, late, failing
 *   GET  /api/v1/groups[/:name]           groups with their tags, configs and matching-agent counts
 *   PUT  /api/v1/groups/:name             create or replace a group (tags and configs) in one commit
 *   GET  /api/v1/files/:dir/:file         a state file's text in the served commit
 *   POST /api/v1/validate                 would this config or group file be served? problems by line
 *   GET  /api/v1/configs/:name/diff       what a version changed (from its previous version, or from=);
 *                                         the same under /api/v1/instance-configs/
 *   GET  /api/v1/commits/:commit          a commit's author, date and message
 * The work of each is in its own file (consoleGroups.ts, consoleValidate.ts, versionDiff.ts,
 * commitInfo.ts); this one says which path runs what.
 */
export function consoleApiRouter(deps: ConsoleApiDeps): Router {
  const { store, registry } = deps;
  const now = deps.now ?? Date.now;
  const router = new Router({ prefix: "/api/v1" });
  const route = (fn: Parameters<typeof jsonRoute>[0]) => jsonRoute(fn, deps.onError);

  const groups = { store, registry, now };

  router.get("/fleet", route(async () => ({ message: "Get fleet summary success", ...summarizeFleet(await liveAgents(registry), now()) })));
  router.get(["/groups", "/groups/"], route(listGroups(groups)));
  router.get("/groups/:name", route(getGroup(groups)));
  router.put("/groups/:name", route(putGroup(groups)));

  router.get("/files/:dir/:file", route(async (ctx) => {
    const dir = ctx.params.dir ?? "";
    const file = ctx.params.file ?? "";
    const stem = file.endsWith(".yaml") ? file.slice(0, -".yaml".length) : "";
    if (!STATE_DIRS.includes(dir) || !isValidName(stem)) {
      throw new DomainError("InvalidParameter", `No such state file: files are ${STATE_DIRS.map((d) => `${d}/<name>.yaml`).join(", ")}.`);
    }
    const path = `${dir}/${file}`;
    const state = store.state;
    const [blob] = state.commit ? await store.git.catFileBatch([`${state.commit}:${path}`]) : [undefined];
    if (blob) return { message: "Get file success", path, commit: state.commit, exists: true, text: blob.toString("utf8") };
    // `default` exists without a file: this is the file that writing it would create.
    if (dir === "agent_groups" && stem === DEFAULT_GROUP) {
      const spec = state.groups.get(DEFAULT_GROUP) ?? implicitDefaultGroup();
      return { message: "Get file success", path, commit: state.commit || null, exists: false, text: renderGroup(spec) };
    }
    throw new DomainError(dir === "agent_groups" ? "AgentGroupNotExist" : "ConfigNotExist", `${path} is not in the served commit${state.commit ? ` ${state.commit.slice(0, 12)}` : ""}.`);
  }));

  router.post("/validate", route(validateFile({ store, bodyLimit: deps.bodyLimit })));
  router.get("/configs/:name/diff", route(versionDiff(store, CONFIG_HISTORY)));
  router.get("/instance-configs/:name/diff", route(versionDiff(store, INSTANCE_CONFIG_HISTORY)));
  router.get("/commits/:commit", route(commitInfo(store)));
  return router;
}
