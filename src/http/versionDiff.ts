import type { Context } from "koa";
import { configDiff } from "../domain/configDiff.ts";
import { configVersionJson } from "../domain/configVersion.ts";
import { DomainError } from "../domain/errors.ts";
import { isValidName, nameRuleMessage } from "../domain/names.ts";
import { noHistory, readHistory, readVersion, type HistoryKind } from "../store/configHistory.ts";
import type { RepoStore } from "../store/repoStore.ts";

// What a version of a config (or instance config) changed, for the console's history view
// (consoleApi.ts routes it): from the version before it on the mainline, or from any version.

type DiffSide = Parameters<typeof configDiff>[1];

/** A version from the query, refused unless a non-negative integer. */
function version(value: unknown, field: string): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) throw new DomainError("InvalidParameter", `Query parameter ${field} must be a config version (a non-negative integer), got ${JSON.stringify(value ?? null)}.`);
  return n;
}

/** GET /api/v1/configs/:name/diff (and /api/v1/instance-configs/:name/diff): `to` and `from` are versions. */
export function versionDiff<S extends DiffSide>(store: RepoStore, kind: HistoryKind<S>) {
  return async (ctx: Context) => {
    const configName = ctx.params.name ?? "";
    if (!isValidName(configName)) throw new DomainError("InvalidParameter", nameRuleMessage(kind.what, configName));
    // Up to HEAD, as the history: a refused version can be looked at too.
    const rev = "HEAD";
    const history = await readHistory(store.git, kind, configName, rev);
    const versions = history.filter((v) => v.action !== "deleted");
    if (versions.length === 0) throw noHistory(kind, configName);
    const served = (kind.what === "config" ? store.state.configs : store.state.instanceConfigs).get(configName)?.version;
    const to = ctx.query.to === undefined ? (served ?? versions[0]?.version ?? 0) : version(ctx.query.to, "to");
    const after = await readVersion(store.git, kind, configName, to, rev);
    let before: Awaited<ReturnType<typeof readVersion<S>>> | undefined;
    if (ctx.query.from !== undefined) {
      const from = version(ctx.query.from, "from");
      before = from === 0 ? undefined : await readVersion(store.git, kind, configName, from, rev);
    } else {
      // The version before `to` on the mainline (after a deletion the config came back new),
      // passing over versions that are not valid files (refused) and the same version kept by a rollback.
      for (const v of history.slice(history.findIndex((h) => h.commit === after.entry.commit) + 1)) {
        if (v.action === "deleted") break;
        if (v.version === to) continue;
        before = await readVersion(store.git, kind, configName, v.version, rev).catch(() => undefined);
        if (before) break;
      }
    }
    return {
      message: `Get ${kind.what} diff success`,
      configName,
      from: before ? configVersionJson(before.entry) : null,
      to: configVersionJson(after.entry),
      ...configDiff(before?.spec, after.spec),
    };
  };
}
