import { RepoState } from "../domain/repoState.ts";
import type { ConfigRecord, ConfigSpec, InstanceConfigRecord, InstanceConfigSpec, Problem } from "../domain/types.ts";
import type { ContentLimits } from "./contentCheck.ts";
import type { Git } from "./git.ts";
import { configPath, instanceConfigPath, ParseCache, readRepoContent, STATE_PATHS } from "./repoContent.ts";
import { DEFAULT_MAX_FILE_SIZE, entryProblems, stateEntries } from "./stateTree.ts";
import { VersionIndex, type VersionStartup } from "./versionIndex.ts";
import { pipelineJson } from "./yaml/pipelineJson.ts";

export interface LoadResult {
  readonly commit: string | undefined;
  /** The new state, or undefined when the commit failed validation. */
  readonly state: RepoState | undefined;
  readonly problems: readonly Problem[];
  /** Served anyway: credentials in plain text in contents (--secrets warn). */
  readonly warnings?: readonly Problem[];
  /** Committed text of every state file, for writers that edit files in place. */
  readonly texts: ReadonlyMap<string, string>;
}

/**
 * Builds RepoStates from commits. Blob texts are cached by object id, so a new commit costs one
 * tree listing plus the changed blobs, never a reread of unchanged files.
 */
export class SnapshotLoader {
  private readonly versions: VersionIndex;
  private blobTexts = new Map<string, string>();
  private readonly parsed = new ParseCache();
  /** Served records by parsed spec (specs are reused while a file's text is unchanged). */
  private readonly records = new WeakMap<ConfigSpec | InstanceConfigSpec, ConfigRecord | InstanceConfigRecord>();
  private loaded: { commit: string | undefined; texts: ReadonlyMap<string, string> } | undefined;

  /** `saved`: where the version index is kept between runs (see VersionIndex), and how it is written. */
  constructor(
    private readonly git: Git,
    private readonly limits: ContentLimits,
    saved?: { readonly path: string; readonly writeAtomic: (path: string, data: string) => void },
    /** State files larger than this are not read: the commit is refused with a problem naming file, size and limit. */
    private readonly maxFileSize = DEFAULT_MAX_FILE_SIZE,
  ) {
    this.versions = new VersionIndex(git, saved?.path, saved?.writeAtomic);
  }

  /** How the first load found the versions (restored from the saved index, commits walked). */
  get versionStartup(): VersionStartup | undefined {
    return this.versions.startup;
  }

  /** Saves the version index for the next run. */
  saveVersions(): void {
    this.versions.save();
  }

  async load(commit: string | undefined): Promise<LoadResult> {
    const from = this.versions.head;
    // Every load lists the tree's state entries with their kinds and sizes first (one ls-tree,
    // no blob read): links, submodules and oversize files are problems and are never read.
    const checked = commit === undefined ? undefined : this.checkTree(commit);
    checked?.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    // A first load walks the whole history (the longest step of a cold start) and reads the whole
    // tree: they are independent, so both run at once.
    const tree = from === undefined && checked !== undefined ? this.readTree(checked) : undefined;
    tree?.catch(() => undefined);
    const { changed, full } = await this.versions.moveTo(commit);
    if (commit === undefined || checked === undefined) return this.remember(undefined, new Map(), { commit, state: new RepoState("", 0, 0, [], []), problems: [], texts: new Map() });
    const { problems, skip } = await checked;
    if (!full && from !== undefined && from === this.loaded?.commit) {
      // Moving forward: only the blobs the new commits wrote are read.
      const texts = new Map(this.loaded.texts);
      const written = [...changed].filter((c): c is [string, string] => c[1] !== undefined && !skip.has(c[0]));
      const contents = await this.git.readBlobs(written.map(([, blob]) => blob));
      for (const [path, blob] of changed) if (blob === undefined || skip.has(path)) texts.delete(path);
      written.forEach(([path, blob], i) => {
        const c = contents[i];
        if (c === undefined) throw new Error(`blob ${blob} of ${path} in ${commit} is missing`);
        texts.set(path, c.toString("utf8"));
      });
      return this.remember(commit, texts, this.build(commit, texts, problems));
    }
    const texts = await (tree ?? this.readTree(checked));
    return this.remember(commit, texts, this.build(commit, texts, problems));
  }

  /** The validation problems of a commit (none: it can be served), without moving the version index. */
  async problemsAt(commit: string): Promise<readonly Problem[]> {
    const checked = await this.checkTree(commit);
    if (checked.problems.length > 0) return checked.problems;
    return readRepoContent(await this.readTree(Promise.resolve(checked)), this.limits, this.parsed).problems;
  }

  private async checkTree(commit: string): Promise<{ entries: { path: string; blob: string }[]; problems: Problem[]; skip: Set<string> }> {
    const listed = await stateEntries(this.git, commit, STATE_PATHS, true);
    const { problems, skip } = entryProblems(listed, this.maxFileSize);
    return { entries: listed.filter((e) => !skip.has(e.path)), problems, skip };
  }

  /** Every readable state file of a commit; blobs already read for the previous tree are not read again. */
  private async readTree(checked: Promise<{ entries: { path: string; blob: string }[] }>): Promise<Map<string, string>> {
    const { entries } = await checked;
    const missing = [...new Set(entries.map((e) => e.blob).filter((b) => !this.blobTexts.has(b)))];
    const contents = await this.git.catFileBatch(missing);
    const cache = new Map<string, string>();
    missing.forEach((b, i) => cache.set(b, contents[i]?.toString("utf8") ?? ""));
    const texts = new Map<string, string>();
    for (const e of entries) {
      const text = cache.get(e.blob) ?? this.blobTexts.get(e.blob) ?? "";
      cache.set(e.blob, text);
      texts.set(e.path, text);
    }
    this.blobTexts = cache; // keep only what the current tree uses
    return texts;
  }

  /** The texts of the commit the version index stands at, valid or not, for the next step. */
  private remember(commit: string | undefined, texts: ReadonlyMap<string, string>, result: LoadResult): LoadResult {
    this.loaded = { commit, texts };
    return result;
  }


  /**
   * The state after a commit this process just made on top of `base`, from what it wrote: no git
   * call. Falls back to a load when HEAD is not where the version index stands.
   */
  async applyOwnCommit(base: LoadResult, commit: string, changes: ReadonlyMap<string, string | undefined>, time: number, rollbacks?: ReadonlySet<string>): Promise<LoadResult> {
    if (base.commit !== this.versions.head) return this.load(commit);
    this.versions.advanceOne(commit, [...changes.keys()], time, rollbacks);
    const texts = new Map(base.texts);
    for (const [path, text] of changes) {
      if (text === undefined) texts.delete(path);
      else texts.set(path, text);
    }
    return this.remember(commit, texts, this.build(commit, texts));
  }

  private build(commit: string, texts: ReadonlyMap<string, string>, treeProblems: readonly Problem[] = []): LoadResult {
    const content = readRepoContent(texts, this.limits, this.parsed);
    this.parsed.prune();
    if (treeProblems.length > 0 || content.problems.length > 0) return { commit, state: undefined, problems: [...treeProblems, ...content.problems], texts };
    type Served<S> = S & { version: number; commit: string; rollback?: true; detailJson?: string; notMapping?: string };
    const record = <S extends ConfigSpec | InstanceConfigSpec>(c: S, path: string): Served<S> => {
      const change = this.versions.changeOf(path);
      const version = change?.depth ?? this.versions.depth;
      const from = change?.commit ?? commit;
      // Unchanged files keep their record object: a write to one of 1,000 configs builds one (and
      // converts one content to JSON for v2 agents).
      const known = this.records.get(c);
      if (known && known.version === version && known.commit === from && known.rollback === change?.rollback) return known as unknown as Served<S>;
      const json = pipelineJson(c.content, this.limits);
      const made = { ...c, version, commit: from, ...(change?.rollback ? { rollback: true as const } : {}), ...("json" in json ? { detailJson: json.json } : { notMapping: json.problem }) };
      this.records.set(c, made);
      return made;
    };
    const configs: ConfigRecord[] = content.configs.map((c) => record(c, configPath(c.name)));
    const instances: InstanceConfigRecord[] = content.instanceConfigs.map((c) => record(c, instanceConfigPath(c.name)));
    const state = new RepoState(commit, this.versions.depth, this.versions.committedAt, configs, content.groups, instances, content.rollout);
    return { commit, state, problems: [], texts, warnings: content.warnings };
  }
}
